"""How fresh the figures are: the newest answer, the segment run the classes come from,
and the churn run the risks come from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from feedback.customers.models import SegmentRun
from feedback.responses.models import Response
from feedback.risk.models import ChurnRun


@dataclass(frozen=True)
class Freshness:
    newest_answer: datetime | None
    segments_as_of: date | None
    churn_computed_at: datetime | None


def freshness(conn) -> Freshness:
    newest = conn.scalar(select(func.max(Response.answered_at)))
    if isinstance(newest, str):  # SQLite hands back text from an aggregate
        from datetime import UTC

        newest = datetime.fromisoformat(newest).replace(tzinfo=UTC)
    segments = conn.scalar(select(func.max(SegmentRun.as_of)))
    if isinstance(segments, str):
        segments = date.fromisoformat(segments)
    churn = conn.execute(select(ChurnRun.computed_at).order_by(ChurnRun.as_of.desc())
                         .limit(1)).scalar()  # fmt: skip
    return Freshness(newest, segments, churn)
