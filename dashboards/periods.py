"""Calendar periods (months, quarters) in the company's time zone, and the SQL that puts a
local day into one. The fact tables store each answer's local day (feedback.reporting), so
an answer at 00:30 on 1 July in Copenhagen counts in July though it is 30 June in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case

GRAINS = ("month", "quarter")


@dataclass(frozen=True)
class Period:
    label: str  # "2025-07" or "2025-Q3"
    first: date  # first local day
    last: date  # last local day


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def periods(start: date, end: date, grain: str) -> list[Period]:
    """The months or quarters that overlap [start, end], first to last, clipped to them."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}")
    step = 1 if grain == "month" else 3
    index = _month_index(start)
    index -= index % step
    out = []
    while _month_start(index) <= end:
        first, following = _month_start(index), _month_start(index + step)
        label = (
            f"{first:%Y-%m}" if grain == "month" else f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        )
        out.append(Period(label, max(first, start), min(following - timedelta(days=1), end)))
        index += step
    return out


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_period_index(day_column, spans: list[Period]):
    """SQL: the index of the period a local-date column falls into (rows must already lie
    within the periods)."""
    whens = [(day_column < span.first, i - 1) for i, span in enumerate(spans) if i]
    return case(*whens, else_=len(spans) - 1) if whens else case((day_column.is_not(None), 0),
                                                                 else_=0)  # fmt: skip
