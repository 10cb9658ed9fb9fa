"""Silent customers and churn risk. The risk levels every page, view, API and event uses:"""

HIGH_RISK = 60  # a churn risk (%) from here is "high": badges, At risk, churn.high_risk, views
MEDIUM_RISK = 30  # from here "medium"; below, "low"


def risk_level(risk: float) -> str:
    return "high" if risk >= HIGH_RISK else "medium" if risk >= MEDIUM_RISK else "low"
