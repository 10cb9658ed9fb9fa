"""A churn score's reasons in words an account manager acts on, from the raw figures behind
the features that moved the score."""

from __future__ import annotations

import math
from datetime import timedelta
from functools import lru_cache

from feedback.risk.features import EPOCH


def _pct(change: float) -> str:
    return f"{change * 100:+.0f} %".replace("-", "−")


def _month(day_number: float) -> str:
    return _month_name(int(day_number))


@lru_cache(maxsize=4096)
def _month_name(day_number: int) -> str:
    return (EPOCH + timedelta(days=day_number)).strftime("%B %Y")


class _Row:
    """Row j of a snapshot's raw columns, read only where a sentence needs it."""

    __slots__ = ("columns", "j")

    def __init__(self, columns: dict[str, list], j: int) -> None:
        self.columns, self.j = columns, j

    def __getitem__(self, name: str):
        return self.columns[name][self.j]


def describe(feature: str, columns: dict[str, list], j: int) -> str:
    """One customer's (row j of a snapshot's raw columns, as lists) reason for one feature."""
    r = _Row(columns, j)
    if feature == "recency":
        n, span = r["n730"], r["last"] - r["first"]
        usual = f", usually every {round(span / (n - 1))}" if n >= 2 and span > 0 else ""
        return f"no order for {int(r['days_since'])} days{usual}"
    if feature == "orders_season":
        now, before = int(r["o90"]), int(r["o90ly"])
        if before == 0:
            return f"{now} orders in the last 90 days, none in the same period last year"
        return (f"orders {_pct((now - before) / before)} against the same quarter last year "
                f"({now} against {before})")  # fmt: skip
    if feature == "revenue_year":
        now, before = r["r365"], r["rprev"]
        return f"revenue {_pct((now - before) / before)} against the 12 months before"
    if feature == "trend":
        now = _pct((r["h1"] - r["h2"]) / r["h2"]) if r["h2"] > 0 else "up from nothing"
        before = _pct((r["h3"] - r["h4"]) / r["h4"]) if r["h4"] > 0 else "no revenue"
        return f"last 6 months' revenue {now} against the 6 before (a year earlier: {before})"
    if feature == "credit_share":
        return f"credits are {r['cr365'] / r['r365'] * 100:.0f} % of orders in the last 12 months"
    if feature in ("detractor", "score_drop", "promoter"):
        said = f"scored {int(r['score'])} in {_month(r['answered_day'])}"
        if not math.isnan(r["prev_score"]) and r["prev_score"] != r["score"]:
            said += f", {int(r['prev_score'])} in {_month(r['prev_day'])}"
        return said
    if feature == "silence":
        n = int(r["silence"])
        return (
            "did not answer the last survey" if n == 1 else f"did not answer the last {n} surveys"
        )
    if feature == "open_cases":
        n = int(r["open_cases"])
        return f"{n} open case{'s' if n != 1 else ''} from its answers"
    if feature == "breached_cases":
        n = int(r["breached_cases"])
        return f"{n} case{'s' if n != 1 else ''} past the deadline"
    return feature
