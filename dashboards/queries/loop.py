"""View 6: is the loop closed in time? Cases opened in the period (by their local creation
date), per team and per assignee: closed, closed within the deadline, breached, still open,
median hours to the first action and to closing; the customers' follow-up answers and the
root causes recorded on closing.

The definitions are the queue page's (cases/queries.py, cases/models.py): open and closed
are OPEN_STATUSES and CLOSED_STATUSES; a case is closed within its deadline when
closed_at <= due_at; an open case is breached once due_at < now. A case closed after its
deadline also counts as breached here, since the deadline was missed.

Medians are not additive: the overall, per-team and per-assignee medians would need three
grouped statements (percentile_cont on PostgreSQL, a different fallback on SQLite). Instead
one statement counts the cases per team, assignee and duration, rounded when the facts are
built (first_bucket, close_bucket: a few hundred distinct values), and the medians (with
their order-statistic intervals) come from those counts in Python. Durations are plain
elapsed hours, not business hours."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select, tuple_, union_all

from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries.scope import survey_conditions
from feedback.analysis.themes import load_themes
from feedback.auth.models import Team, User
from feedback.cases.models import CLOSED_STATUSES, OPEN_STATUSES
from feedback.dbtypes import utcnow
from feedback.list_filters import segment_conditions
from feedback.reporting.models import CaseFacts

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
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return weighted_median(counts)


def weighted_median(counts: dict[float, int]) -> stats.Estimate:
    """median() over values given as {value: how many times}."""
    n = sum(counts.values())
    if n == 0:
        return stats.EMPTY
    ordered = sorted(counts.items())

    def rank(k: int) -> float:  # the k-th smallest value, 1-based
        seen = 0
        for value, times in ordered:
            seen += times
            if seen >= k:
                return value
        return ordered[-1][0]

    middle = rank(n // 2 + 1) if n % 2 else (rank(n // 2) + rank(n // 2 + 1)) / 2
    low = max(math.floor((n - stats.Z95 * math.sqrt(n)) / 2), 1)
    high = min(math.ceil(1 + (n + stats.Z95 * math.sqrt(n)) / 2), n)
    return stats.Estimate(middle, rank(low), rank(high), None, n)


def _sum_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def scoped_cases(columns, conn, filters: Filters, *, tz: ZoneInfo):
    """SELECT `columns` FROM the cases opened in the period (local day) that the filters let
    through, from case_facts. A survey or wave filter keeps only cases made from answers to
    it (churn cases have no answer); language is the customer's; owner and team are the
    case's assignee and team."""
    f = CaseFacts
    stmt = select(*columns).where(
        f.created_day >= filters.start, f.created_day <= filters.end,
        *survey_conditions(filters, f.survey_id, f.template_key, f.wave_id),
        # On this view owner and team mean who works the case: its assignee and its team
        # (a support team owns no customers but works hundreds of cases).
        *segment_conditions(filters, f.abc_class, f.programme, f.assignee_id),
    )  # fmt: skip
    if filters.team is not None:
        stmt = stmt.where(f.team_id == filters.team)
    if filters.language:
        stmt = stmt.where(f.language == filters.language)
    return stmt


@dataclass
class _Group:
    label: str
    counts: list[int] = field(default_factory=lambda: [0] * 6)
    first: dict[float, int] = field(default_factory=dict)
    close: dict[float, int] = field(default_factory=dict)

    def row(self, key) -> LoopRow:
        return LoopRow(key, self.label, *self.counts, weighted_median(self.first),
                       weighted_median(self.close))  # fmt: skip


def loop_figures(conn, filters: Filters, *, tz: ZoneInfo, now: datetime):
    """The view's three parts (the loop per team and assignee, how cases ended, root
    causes) from two statements and one for the names: the counts grouped by team, assignee
    and root cause, and the two durations' distributions. Teams, assignees and totals are
    sums of their rows."""
    f = CaseFacts
    is_open, is_closed = f.status.in_(OPEN_STATUSES), f.status.in_(CLOSED_STATUSES)
    asked = f.followup_asked.is_(True)
    counts = scoped_cases(
        [f.team_id, f.assignee_id, f.root_cause, func.count(),
         _sum_if(is_closed), _sum_if(and_(is_closed, f.closed_at <= f.due_at)),
         _sum_if(and_(is_closed, f.closed_at > f.due_at)),
         _sum_if(and_(is_open, f.due_at < now)), _sum_if(is_open),
         _sum_if(f.status == "resolved"), _sum_if(f.status == "no_action"),
         _sum_if(f.followup_solved.is_(True)), _sum_if(f.followup_solved.is_(False)),
         _sum_if(and_(asked, f.followup_solved.is_(None))), _sum_if(and_(is_closed, ~asked))],
        conn, filters, tz=tz,
    ).group_by(f.team_id, f.assignee_id, f.root_cause)  # fmt: skip
    rows = conn.execute(counts).all()
    ended = [0] * 6
    closed_by_cause: dict[str | None, int] = {}
    for *_, cause, _n, closed, _a, _b, _c, _d, e1, e2, e3, e4, e5, e6 in rows:
        ended = [a + int(b) for a, b in zip(ended, (e1, e2, e3, e4, e5, e6), strict=True)]
        if closed:
            closed_by_cause[cause] = closed_by_cause.get(cause, 0) + int(closed)
    report = _report(conn, filters, tz, [(r[0], r[1], *r[3:9]) for r in rows])
    return report, Outcomes(*ended), _causes(closed_by_cause)


def loop_report(conn, filters: Filters, *, tz: ZoneInfo, now: datetime) -> LoopReport:
    return loop_figures(conn, filters, tz=tz, now=now)[0]


def _report(conn, filters: Filters, tz: ZoneInfo, rows: list) -> LoopReport:
    """The loop per team and assignee from (team, assignee, six counts) rows, with the
    medians from the durations' distributions."""
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
    for measure, team_id, assignee_id, value, times in _durations(conn, filters, tz):
        value = round(float(value), 1)
        for group in groups(team_id, assignee_id):
            seen = group.first if measure == 1 else group.close
            seen[value] = seen.get(value, 0) + int(times)

    def ordered(groups_: dict, empty_label: str) -> list[LoopRow]:
        out = [g.row(k) for k, g in groups_.items()]
        return sorted(out, key=lambda r: (r.label == empty_label, -r.opened, r.label))

    return LoopReport(total.row(None), ordered(teams, NO_TEAM), ordered(owners, UNASSIGNED))


def _durations(conn, filters: Filters, tz: ZoneInfo) -> list[tuple]:
    """(measure: 1 first action, 2 close; team, assignee, rounded hours, cases) from the hours
    rounded at the build (reporting/cases.bucket_sql): a few hundred values per group.
    PostgreSQL groups both measures in one scan of the cases (GROUPING SETS); SQLite, which
    has no grouping sets, in two."""
    f = CaseFacts
    if conn.dialect.name == "postgresql":
        by = (f.team_id, f.assignee_id)
        stmt = scoped_cases(
            [func.grouping(f.first_bucket), *by, f.first_bucket, f.close_bucket, func.count()],
            conn,
            filters,
            tz=tz,
        ).group_by(func.grouping_sets(tuple_(*by, f.first_bucket), tuple_(*by, f.close_bucket)))
        rows = [(1, team, assignee, first, n) if not other else (2, team, assignee, close, n)
                for other, team, assignee, first, close, n in conn.execute(stmt).all()]  # fmt: skip
        return [row for row in rows if row[3] is not None]
    spread = union_all(*[
        scoped_cases([literal(measure).label("m"), f.team_id, f.assignee_id, bucket,
                      func.count()], conn, filters, tz=tz)
        .where(bucket.is_not(None)).group_by(f.team_id, f.assignee_id, bucket)
        for measure, bucket in ((1, f.first_bucket), (2, f.close_bucket))
    ])  # fmt: skip
    return conn.execute(spread).all()


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
    return loop_figures(conn, filters, tz=tz, now=utcnow())[1]


@dataclass(frozen=True)
class RootCause:
    key: str | None  # a theme key; None: not recorded
    label: str
    cases: int


def root_causes(conn, filters: Filters, *, tz: ZoneInfo) -> list[RootCause]:
    """Closed cases per root cause (a theme, set on closing), most frequent first; the
    cases closed without one last."""
    return loop_figures(conn, filters, tz=tz, now=utcnow())[2]


def _causes(closed_by_cause: dict) -> list[RootCause]:
    themes = load_themes()
    out = []
    for key, count in closed_by_cause.items():
        label = themes[key].name.get("en", key) if key in themes else (key or NOT_RECORDED)
        out.append(RootCause(key, label, int(count)))
    return sorted(out, key=lambda r: (r.key is None, -r.cases, r.label))
