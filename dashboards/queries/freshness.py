"""How fresh the figures are: when the answer facts and the monthly customer facts were
last built, the segment run the classes come from, and the churn run the risks come from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from feedback.customers.models import SegmentRun
from feedback.reporting.models import ReportingBuild
from feedback.risk.models import ChurnRun


@dataclass(frozen=True)
class Freshness:
    answers_built_at: datetime | None  # answer_days
    customers_built_at: datetime | None  # customer_months
    segments_as_of: date | None
    churn_computed_at: datetime | None


def _built(table: str):
    rb = ReportingBuild
    return select(rb.refreshed_at).where(rb.table_name == table).scalar_subquery()


# Built once: it runs with every render and takes no values (building it took longer than
# running it)
_STATEMENT = select(
    _built("answer_days"), _built("customer_months"),
    select(func.max(SegmentRun.as_of)).scalar_subquery(),
    select(ChurnRun.computed_at).order_by(ChurnRun.as_of.desc()).limit(1).scalar_subquery(),
)  # fmt: skip


def freshness(conn) -> Freshness:
    """One round trip: it runs with every view."""
    answers, customers, segments, churn = conn.execute(_STATEMENT).one()
    if isinstance(segments, str):  # SQLite hands back text from an aggregate
        segments = date.fromisoformat(segments)
    return Freshness(answers, customers, segments, churn)
