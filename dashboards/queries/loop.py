"""View 6: is the loop closed in time? Cases opened in the period (by their local creation
date), per team and per assignee: closed, closed within the deadline, breached, still open,
median hours to the first action and to closing; the customers' follow-up answers and the
root causes recorded on closing.

The definitions are the queue page's (cases/queries.py, cases/models.py): open and closed
are OPEN_STATUSES and CLOSED_STATUSES; a case is closed within its deadline when
closed_at <= due_at; an open case is breached once due_at < now. A case closed after its
deadline also counts as breached here, since the deadline was missed.

Medians are not additive: the overall, per-team and per-assignee medians would need three
grouped statements (percentile_cont on PostgreSQL, a different fallback on SQLite). One
statement fetching the two durations of each case is the same on both databases, and the
medians (with their order-statistic intervals) come from it in Python. Durations are plain
elapsed hours, not business hours."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

from dashboards import periods as P
from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries.scope import (
    join_customers,
    latest_run_id,
    needs_customers,
    survey_conditions,
)
from feedback.analysis.themes import load_themes
from feedback.auth.models import Team, User
from feedback.cases.models import CLOSED_STATUSES, OPEN_STATUSES, Case, status_in
from feedback.customers.models import Customer
from feedback.list_filters import NO_OWNER
from feedback.responses.models import Response
from feedback.surveys.models import Survey, Wave

UNASSIGNED = "Team queue (no one assigned)"
NO_TEAM = "No team"
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class LoopRow:
    """The loop figures of one group of cases (a team, an assignee, or all)."""

    key: int | None
    label: str
    opened: int = 0
    closed: int = 0
    closed_in_time: int = 0  # closed_at <= due_at
    closed_late: int = 0
    open_overdue: int = 0  # open, due_at < now
    still_open: int = 0
    to_first_action: stats.Estimate = stats.EMPTY  # median hours, n = cases acted on
    to_close: stats.Estimate = stats.EMPTY  # median hours, n = closed cases

    @property
    def breached(self) -> int:
        return self.closed_late + self.open_overdue

    @property
    def open_in_time(self) -> int:
        return self.still_open - self.open_overdue

    @property
    def in_time_share(self) -> stats.Estimate:
        """Closed within the deadline, in % of closed cases."""
        return stats.proportion(self.closed_in_time, self.closed)


@dataclass(frozen=True)
class LoopReport:
    total: LoopRow
    teams: list[LoopRow]
    owners: list[LoopRow]


def median(values: list[float]) -> stats.Estimate:
    """The median with its distribution-free 95 % interval: the order statistics of ranks
    (n − 1.96·√n)/2 and 1 + (n + 1.96·√n)/2 (Conover), clipped to the data."""
    n = len(values)
    if n == 0:
        return stats.EMPTY
    xs = sorted(values)
    middle = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    low = max(math.floor((n - stats.Z95 * math.sqrt(n)) / 2), 1)
    high = min(math.ceil(1 + (n + stats.Z95 * math.sqrt(n)) / 2), n)
    return stats.Estimate(middle, xs[low - 1], xs[high - 1], None, n)


def _sum_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def scoped_cases(columns, conn, filters: Filters, *, tz: ZoneInfo):
    """SELECT `columns` FROM the cases opened in the period that the filters let through.
    A survey or wave filter keeps only cases made from answers to it (churn cases have no
    answer); language is the customer's; owner and team are the case's assignee and team."""
    start = P.local_midnight_utc(filters.start, tz)
    end = P.local_midnight_utc(filters.end + timedelta(days=1), tz)
    stmt = select(*columns).select_from(Case).where(Case.created_at >= start,
                                                    Case.created_at < end)  # fmt: skip
    if filters.survey or filters.wave is not None:
        stmt = (stmt.join(Response, Response.id == Case.response_id)
                .join(Wave, Wave.id == Response.wave_id)
                .join(Survey, Survey.id == Wave.survey_id)
                .where(*survey_conditions(filters)))  # fmt: skip
    # On this view owner and team mean who works the case: its assignee and its team (a
    # support team owns no customers but works hundreds of cases).
    if filters.owner == NO_OWNER:
        stmt = stmt.where(Case.assignee_id.is_(None))
    elif filters.owner is not None:
        stmt = stmt.where(Case.assignee_id == filters.owner)
    if filters.team is not None:
        stmt = stmt.where(Case.team_id == filters.team)
    filters = filters.but(owner=None, team=None)
    if needs_customers(filters):
        stmt = join_customers(stmt, Case.customer_id, filters, latest_run_id(conn))
        if filters.language:
            stmt = stmt.where(Customer.language == filters.language)
    elif filters.language:
        stmt = stmt.join(Customer, Customer.id == Case.customer_id).where(
            Customer.language == filters.language
        )
    return stmt


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else max((later - earlier).total_seconds(), 0.0) / 3600


@dataclass
class _Group:
    label: str
    counts: list[int] = field(default_factory=lambda: [0] * 6)
    first: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)

    def row(self, key) -> LoopRow:
        return LoopRow(key, self.label, *self.counts, median(self.first), median(self.close))


def loop_report(conn, filters: Filters, *, tz: ZoneInfo, now: datetime) -> LoopReport:
    """Counts grouped by (team, assignee) in one statement, durations in a second; teams,
    assignees and the total are sums of the first and medians over the second."""
    is_open, is_closed = status_in(OPEN_STATUSES), status_in(CLOSED_STATUSES)
    counts = scoped_cases(
        [Case.team_id, Case.assignee_id, func.count(),
         _sum_if(is_closed), _sum_if(and_(is_closed, Case.closed_at <= Case.due_at)),
         _sum_if(and_(is_closed, Case.closed_at > Case.due_at)),
         _sum_if(and_(is_open, Case.due_at < now)), _sum_if(is_open)],
        conn, filters, tz=tz,
    ).group_by(Case.team_id, Case.assignee_id)  # fmt: skip
    durations = scoped_cases(
        [Case.team_id, Case.assignee_id, Case.created_at, Case.first_action_at,
         case((is_closed, Case.closed_at), else_=None)],
        conn, filters, tz=tz,
    ).where(or_(Case.first_action_at.is_not(None), is_closed))  # fmt: skip
    rows = conn.execute(counts).all()
    if not rows:
        return LoopReport(LoopRow(None, "all"), [], [])
    names = _names(conn, {r[0] for r in rows} - {None}, {r[1] for r in rows} - {None})
    total = _Group("all")
    teams: dict = {}
    owners: dict = {}

    def groups(team_id, assignee_id):
        team = teams.setdefault(team_id, _Group(names["team"].get(team_id, NO_TEAM)))
        owner = owners.setdefault(assignee_id, _Group(names["user"].get(assignee_id, UNASSIGNED)))
        return total, team, owner

    for team_id, assignee_id, *numbers in rows:
        for group in groups(team_id, assignee_id):
            group.counts = [a + int(b) for a, b in zip(group.counts, numbers, strict=True)]
    for team_id, assignee_id, created, first_action, closed in conn.execute(durations):
        first, close = _hours(first_action, created), _hours(closed, created)
        for group in groups(team_id, assignee_id):
            if first is not None:
                group.first.append(first)
            if close is not None:
                group.close.append(close)

    def ordered(groups_: dict, empty_label: str) -> list[LoopRow]:
        out = [g.row(k) for k, g in groups_.items()]
        return sorted(out, key=lambda r: (r.label == empty_label, -r.opened, r.label))

    return LoopReport(total.row(None), ordered(teams, NO_TEAM), ordered(owners, UNASSIGNED))


def _names(conn, team_ids: set, user_ids: set) -> dict:
    """Team names and staff names (the name, or the e-mail when the name is blank)."""
    staff = func.coalesce(func.nullif(User.name, ""), User.email)
    teams = select(Team.id, Team.name).where(Team.id.in_(team_ids))
    users = select(User.id, staff).where(User.id.in_(user_ids))
    return {"team": {i: n for i, n in conn.execute(teams)} if team_ids else {},
            "user": {i: n for i, n in conn.execute(users)} if user_ids else {}}  # fmt: skip


@dataclass(frozen=True)
class Outcomes:
    resolved: int
    no_action: int
    solved: int  # the customer said yes to "did we solve it?"
    not_solved: int
    no_answer: int  # asked, no answer yet
    not_asked: int  # closed, no follow-up question sent

    @property
    def solved_share(self) -> stats.Estimate:
        """Yes, in % of the customers who answered the follow-up."""
        return stats.proportion(self.solved, self.solved + self.not_solved)


def outcomes(conn, filters: Filters, *, tz: ZoneInfo) -> Outcomes:
    """How the cases opened in the period ended, and what the customers said afterwards.
    A 'no' reopens a resolved case, so the follow-up answers count over all cases."""
    asked = or_(Case.followup_sent_at.is_not(None), Case.followup_solved.is_not(None))
    stmt = scoped_cases(
        [_sum_if(Case.status == "resolved"), _sum_if(Case.status == "no_action"),
         _sum_if(Case.followup_solved.is_(True)), _sum_if(Case.followup_solved.is_(False)),
         _sum_if(and_(asked, Case.followup_solved.is_(None))),
         _sum_if(and_(status_in(CLOSED_STATUSES), ~asked))],
        conn, filters, tz=tz,
    )  # fmt: skip
    return Outcomes(*(int(v) for v in conn.execute(stmt).one()))


@dataclass(frozen=True)
class RootCause:
    key: str | None  # a theme key; None: not recorded
    label: str
    cases: int


def root_causes(conn, filters: Filters, *, tz: ZoneInfo) -> list[RootCause]:
    """Closed cases per root cause (a theme, set on closing), most frequent first; the
    cases closed without one last."""
    cause = Case.root_cause
    stmt = scoped_cases([cause, func.count()], conn, filters, tz=tz).where(
        status_in(CLOSED_STATUSES)
    ).group_by(cause)  # fmt: skip
    themes = load_themes()
    out = []
    for key, count in conn.execute(stmt):
        label = themes[key].name.get("en", key) if key in themes else (key or NOT_RECORDED)
        out.append(RootCause(key, label, int(count)))
    return sorted(out, key=lambda r: (r.key is None, -r.cases, r.label))
