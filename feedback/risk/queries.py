"""Reading stored churn runs: the list behind `churn list` and the At-risk page, and one
customer's risk over time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from feedback.auth.models import User
from feedback.customers.models import Customer
from feedback.extensions import db
from feedback.risk.models import ChurnRun, ChurnScore


def run_as_of(as_of: date | None = None) -> ChurnRun | None:
    """The run on `as_of`, else the latest before it (or the latest of all)."""
    stmt = select(ChurnRun).order_by(ChurnRun.as_of.desc()).limit(1)
    if as_of is not None:
        stmt = stmt.where(ChurnRun.as_of <= as_of)
    return db.session.scalar(stmt)


def score_rows(run: ChurnRun) -> list[dict]:
    """Every scored customer of a run, highest risk first (then most revenue at risk)."""
    rows = db.session.execute(
        select(
            Customer.external_id, Customer.name, ChurnScore.risk, ChurnScore.reasons,
            ChurnScore.revenue_12m, ChurnScore.revenue_at_risk, User.email,
        )
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(ChurnScore.run_id == run.id)
        .order_by(ChurnScore.risk.desc(), ChurnScore.revenue_at_risk.desc(), Customer.external_id)
    )  # fmt: skip
    return [
        {
            "customer_external_id": external_id,
            "customer_name": name,
            "risk": risk,
            "reasons": list(reasons or []),
            "revenue_12m": f"{revenue:.2f}",
            "revenue_at_risk": f"{at_risk:.2f}",
            "owner_email": owner_email,
        }
        for external_id, name, risk, reasons, revenue, at_risk, owner_email in rows
    ]


def latest_score(customer_id: int) -> tuple[ChurnRun, ChurnScore] | None:
    """The customer's score in the newest run, if that run scored it."""
    run = run_as_of()
    if run is None:
        return None
    score = db.session.get(ChurnScore, (run.id, customer_id))
    return (run, score) if score is not None else None


def risk_history(customer_id: int, limit: int = 26) -> list[tuple[date, int, list[str]]]:
    """(as of, risk, reasons) of the customer's latest runs, oldest first."""
    rows = db.session.execute(
        select(ChurnRun.as_of, ChurnScore.risk, ChurnScore.reasons)
        .join(ChurnRun, ChurnRun.id == ChurnScore.run_id)
        .where(ChurnScore.customer_id == customer_id)
        .order_by(ChurnRun.as_of.desc())
        .limit(limit)
    ).all()
    return [(as_of, risk, list(reasons or [])) for as_of, risk, reasons in reversed(rows)]
