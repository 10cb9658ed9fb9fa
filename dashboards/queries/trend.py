"""View 1: NPS and CSI per month or quarter, with 95 % intervals, the n under every
point, and whether the change from the previous period is significant."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func

from dashboards import periods as P
from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries.scope import scoped_answer_days
from feedback.reporting.models import AnswerDay


@dataclass(frozen=True)
class NpsPoint:
    period: str
    promoters: int
    passives: int
    detractors: int
    estimate: stats.Estimate
    change_significant: bool | None  # None for the first period, or too few answers

    @property
    def n(self) -> int:
        return self.estimate.n

    def as_json(self) -> dict:
        e = self.estimate
        r = lambda x: None if x is None else round(x, 1)  # noqa: E731
        return {"period": self.period, "n": e.n, "promoters": self.promoters,
                "passives": self.passives, "detractors": self.detractors, "nps": r(e.value),
                "ci_low": r(e.low), "ci_high": r(e.high),
                "change_significant": self.change_significant}  # fmt: skip


@dataclass(frozen=True)
class CsiPoint:
    period: str
    estimate: stats.Estimate
    change_significant: bool | None


def _with_changes(points):
    """Each point's change against the latest earlier period that has answers (an annual
    survey is compared with last year's, not with the empty quarters between)."""
    out, before = [], None
    for period, extra, estimate in points:
        significant = None
        if before is not None and estimate.n:
            significant = stats.change_significant(before, estimate)
        out.append((period, extra, estimate, significant))
        if estimate.n:
            before = estimate
    return out


def nps_by_period(conn, filters: Filters, *, nps_templates, tz: ZoneInfo) -> list[NpsPoint]:
    """One point per period from `filters.start` to `filters.end` (empty periods too, n=0).
    Only answers to surveys whose first question is the NPS question count. Reads the
    answer_days facts (days are local in `tz`, the time zone they were built in)."""
    spans = P.periods(filters.start, filters.end, filters.grain)
    ad = AnswerDay
    index = P.day_period_index(ad.day, spans).label("i")
    stmt = scoped_answer_days(
        [index, func.sum(ad.promoters), func.sum(ad.passives), func.sum(ad.detractors)],
        filters, templates=nps_templates,
    ).group_by(index)  # fmt: skip
    counts = {i: (int(p or 0), int(a or 0), int(d or 0)) for i, p, a, d in conn.execute(stmt)}
    rows = []
    for i, span in enumerate(spans):
        p, a, d = counts.get(i, (0, 0, 0))
        rows.append((span.label, (p, a, d), stats.nps(p, a, d)))
    return [NpsPoint(label, *c, est, sig) for label, c, est, sig in _with_changes(rows)]


def csi_by_period(conn, filters: Filters, *, tz: ZoneInfo) -> list[CsiPoint]:
    """Mean CSI (0–100) per period, over answers that carry a CSI."""
    spans = P.periods(filters.start, filters.end, filters.grain)
    ad = AnswerDay
    index = P.day_period_index(ad.day, spans).label("i")
    stmt = (
        scoped_answer_days(
            [index, func.sum(ad.csi_n), func.sum(ad.csi_sum), func.sum(ad.csi_sumsq)], filters
        )
        .where(ad.csi_n > 0)
        .group_by(index)
    )
    sums = {i: (int(n or 0), float(s or 0), float(q or 0)) for i, n, s, q in conn.execute(stmt)}
    rows = [(span.label, None, stats.mean(*sums.get(i, (0, 0.0, 0.0)), bounds=(0, 100)))
            for i, span in enumerate(spans)]  # fmt: skip
    return [CsiPoint(label, est, sig) for label, _, est, sig in _with_changes(rows)]
