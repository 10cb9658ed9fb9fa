"""View 4: the response funnel of each wave (invited, delivered, opened, answered), split by
language and by class, and the non-response rate per period.

The steps follow how an invitation changes state (surveys/dispatch.py, delivery/events.py):
- invited: handed to sending (every state but pending and sending), refusals included;
- delivered: not bounced or failed (sent, delivered, answered). SMTP gives no delivery
  receipts, so a sent mail counts as delivered until a bounce says otherwise: the same
  rule the non-response outcomes use (risk/nonresponse.py);
- opened: an 'open' or 'click' event, or answered (an answer proves the mail was opened);
- answered: a response exists (or the invitation says so).
Each later step is a subset of the one before, so the funnel never widens."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from dashboards import periods as P
from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries.scope import fact_conditions
from feedback.reporting.models import InvitationFacts, OutcomeFacts
from feedback.surveys.models import Survey, Wave

NOT_SENT = ("pending", "sending")
DELIVERED = ("sent", "delivered", "answered")
OPENED_EVENTS = ("open", "click")
UNCLASSIFIED = "unclassified"
STEPS = ("invited", "delivered", "opened", "answered")


@dataclass(frozen=True)
class Funnel:
    """One group's funnel: counts of invitations reaching each step."""

    group: str  # a wave label, a language code, a class letter, or "all"
    invited: int = 0
    delivered: int = 0
    opened: int = 0
    answered: int = 0

    def plus(self, invited, delivered, opened, answered) -> Funnel:
        return Funnel(self.group, self.invited + invited, self.delivered + delivered,
                      self.opened + opened, self.answered + answered)  # fmt: skip

    @property
    def delivery_rate(self) -> stats.Estimate:
        """Delivered, in % of invited."""
        return stats.proportion(self.delivered, self.invited)

    @property
    def open_rate(self) -> stats.Estimate:
        """Opened, in % of delivered."""
        return stats.proportion(self.opened, self.delivered)

    @property
    def response_rate(self) -> stats.Estimate:
        """Answered, in % of delivered: the response rate."""
        return stats.proportion(self.answered, self.delivered)


@dataclass(frozen=True)
class WaveFunnel:
    wave_id: int
    label: str  # "Quarterly NPS: wave of 4 Dec 2025"
    funnel: Funnel


@dataclass(frozen=True)
class FunnelReport:
    total: Funnel
    waves: list[WaveFunnel]
    by_language: list[Funnel]
    by_class: list[Funnel]


def _sum_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def funnel(conn, filters: Filters, *, tz: ZoneInfo) -> FunnelReport:
    """The funnel of the waves sent in the period (by the wave's local send date), in one
    statement over invitation_facts grouped by wave, language and class; the splits are
    sums of its rows."""
    f = InvitationFacts
    abc = func.coalesce(f.abc_class, UNCLASSIFIED).label("abc")
    stmt = (
        select(f.wave_id, Wave.sent_at, Survey.name, f.language, abc, func.sum(f.invited),
               func.sum(f.delivered), func.sum(f.opened), func.sum(f.answered))
        .join(Wave, Wave.id == f.wave_id)
        .join(Survey, Survey.id == f.survey_id)
        .where(f.sent_day >= filters.start, f.sent_day <= filters.end,
               *fact_conditions(f, filters))
        .group_by(f.wave_id, Wave.sent_at, Survey.name, f.language, abc)
    )  # fmt: skip
    # Summed in plain lists, the Funnels made once per group at the end: hundreds of rows.
    total = [0, 0, 0, 0]
    waves: dict[int, tuple] = {}  # wave id: (sent_at, survey, counts)
    languages: dict[str, list[int]] = {}
    classes: dict[str, list[int]] = {}
    for wave_id, sent_at, survey, language, abc_class, *counts in conn.execute(stmt).all():
        sums = (total, waves.setdefault(wave_id, (sent_at, survey, [0, 0, 0, 0]))[2],
                languages.setdefault(language, [0, 0, 0, 0]),
                classes.setdefault(abc_class, [0, 0, 0, 0]))  # fmt: skip
        for i, count in enumerate(counts):
            for target in sums:
                target[i] += int(count)
    ordered = sorted(waves.items(), key=lambda item: (item[1][0], item[0]))
    waves_out = []
    for wave_id, (sent_at, survey, counts) in ordered:
        label = f"{survey}: wave of {sent_at.astimezone(tz):%-d %b %Y}"
        waves_out.append(WaveFunnel(wave_id, label, Funnel(label, *counts)))
    return FunnelReport(
        total=Funnel("all", *total),
        waves=waves_out,
        by_language=sorted(
            (Funnel(k, *c) for k, c in languages.items()), key=lambda f: (-f.invited, f.group)
        ),
        by_class=sorted(
            (Funnel(k, *c) for k, c in classes.items()),
            key=lambda f: (f.group == UNCLASSIFIED, f.group),
        ),
    )


@dataclass(frozen=True)
class NonResponsePoint:
    period: str
    silent: int  # customers with outcome non_response
    counted: int  # answered + non_response (opted out and undelivered left out)
    estimate: stats.Estimate  # silent in % of counted, Wilson interval

    @property
    def n(self) -> int:
        return self.counted


def nonresponse_by_period(conn, filters: Filters, *, tz: ZoneInfo) -> list[NonResponsePoint]:
    """Per period (by the wave's local close date): the share of customers who stayed
    silent, among those who answered or stayed silent. Every period from start to end is
    present, empty ones with n=0. Reads outcome_facts."""
    spans = P.periods(filters.start, filters.end, filters.grain)
    f = OutcomeFacts
    index = P.day_period_index(f.closed_day, spans).label("i")
    stmt = select(index, func.sum(f.silent), func.sum(f.counted)).where(
        f.closed_day >= filters.start, f.closed_day <= filters.end, *fact_conditions(f, filters)
    )
    counts = {i: (int(s or 0), int(n or 0)) for i, s, n in conn.execute(stmt.group_by(index))}
    points = []
    for i, span in enumerate(spans):
        silent, counted = counts.get(i, (0, 0))
        points.append(
            NonResponsePoint(span.label, silent, counted, stats.proportion(silent, counted))
        )
    return points
