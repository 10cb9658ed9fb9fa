"""Read side of the queue: which cases a person sees, one page of them, counts and the
closed-loop figures. Plain functions over the session; a fixed number of statements per
page, whatever the number of cases (the queue bench runs them against 100,000).

Tabs: "mine" (assigned to me), "team" (my team's cases: its queue and its members'),
"all" (managers and admins only). An agent never gets rows outside the first two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import aliased

from feedback.auth.models import Team, User
from feedback.cases.models import CLOSED_STATUSES, OPEN_STATUSES, Case, status_in
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.queries import Page
from feedback.customers.segments import latest_run_id
from feedback.extensions import db
from feedback.responses.models import Response

VIEWS = ("mine", "team", "all")
STATUS_FILTERS = ("open", "closed", "any", *OPEN_STATUSES, *CLOSED_STATUSES)
FIGURE_WINDOW = timedelta(days=90)
SNIPPET = 140


@dataclass
class QueueFilters:
    view: str = "mine"
    status: str = "open"
    priority: str | None = None
    classes: list[str] = field(default_factory=list)
    breached: bool = False
    theme: str | None = None


def views_for(actor: User) -> tuple[str, ...]:
    """The tabs this person has: managers see everything, agents their own and their team's."""
    tabs = ["mine"]
    if actor.team_id is not None:
        tabs.append("team")
    if actor.role in ("manager", "admin"):
        tabs.append("all")
    return tuple(tabs)


def default_view(actor: User) -> str:
    return "all" if actor.role in ("manager", "admin") else "mine"


def _tab(actor: User, view: str) -> tuple:
    """Whose cases a tab holds: ("all",), ("team", id) or ("mine", id); a view the actor
    lacks falls back to their own cases."""
    if view == "all" and actor.role in ("manager", "admin"):
        return ("all",)
    if view == "team" and actor.team_id is not None:
        return ("team", actor.team_id)
    return ("mine", actor.id)


def _scope(actor: User, view: str):
    """The rows a tab holds, as a condition."""
    tab = _tab(actor, view)
    if tab[0] == "all":
        return true()
    return (Case.team_id if tab[0] == "team" else Case.assignee_id) == tab[1]


def visible_to(actor: User):
    """Every case the person's tabs hold, as one condition."""
    return or_(*(_scope(actor, view) for view in views_for(actor)))


def _status(status: str):
    if status == "open":
        return status_in(OPEN_STATUSES)
    if status == "closed":
        return status_in(CLOSED_STATUSES)
    if status == "any":
        return true()
    return Case.status == status


def _conditions(actor: User, filters: QueueFilters, now: datetime) -> list:
    conditions = [_scope(actor, filters.view), _status(filters.status)]
    if filters.priority:
        conditions.append(Case.priority == filters.priority)
    if filters.breached:
        conditions += [status_in(OPEN_STATUSES), Case.due_at < now]
    if filters.theme:
        conditions.append(Case.themes.contains(f",{filters.theme},", autoescape=True))
    return conditions


def _segment_join():
    return and_(
        CustomerSegment.customer_id == Case.customer_id,
        CustomerSegment.run_id == latest_run_id(),
    )


@dataclass(frozen=True)
class QueueRow:
    id: int
    title: str
    priority: str
    status: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    themes: tuple[str, ...]
    customer_name: str
    customer_external_id: str
    abc_class: str | None
    programme: str | None
    score: int | None
    csi: float | None
    comment: str
    assignee: str | None
    team: str | None

    def breached(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.due_at < now


def queue_page(actor: User, filters: QueueFilters, *, now: datetime, page: int,
               per_page: int) -> Page:  # fmt: skip
    """One page of the tab, open cases soonest due first, closed ones latest closed first."""
    conditions = _conditions(actor, filters, now)
    base = select(Case.id).where(*conditions)
    if filters.classes:
        base = base.join(CustomerSegment, _segment_join()).where(
            CustomerSegment.abc_class.in_(filters.classes)
        )
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    page = max(1, min(page, max(1, -(-total // per_page))))
    if filters.status in CLOSED_STATUSES or filters.status == "closed":
        order = (Case.closed_at.desc(), Case.id.desc())
    else:
        order = (Case.due_at, Case.id)
    ids = base.order_by(*order).limit(per_page).offset((page - 1) * per_page).subquery()
    assignee = aliased(User)
    rows = db.session.execute(
        select(
            Case.id, Case.title, Case.priority, Case.status, Case.due_at, Case.created_at,
            Case.closed_at, Case.themes, Customer.name.label("customer_name"),
            Customer.external_id.label("customer_external_id"), CustomerSegment.abc_class,
            CustomerSegment.programme, Response.score, Response.csi,
            func.substr(Response.comment, 1, SNIPPET + 1).label("comment"),
            func.coalesce(func.nullif(assignee.name, ""), assignee.email).label("assignee"),
            Team.name.label("team"),
        )
        .join(ids, ids.c.id == Case.id)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(CustomerSegment, _segment_join())
        .outerjoin(Response, Response.id == Case.response_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .order_by(*order)
    ).all()  # fmt: skip
    items = [
        QueueRow(**{**row._mapping, "themes": tuple(t for t in row.themes.split(",") if t),
                    "comment": row.comment or ""})
        for row in rows
    ]  # fmt: skip
    return Page(items=items, page=page, per_page=per_page, total=total)


def _count(condition):
    """Rows meeting `condition`, as a column of a single aggregate statement."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def tab_counts(actor: User, *, now: datetime) -> dict[str, tuple[int, int]]:
    """Open and breached cases per tab the actor has, in one statement."""
    tabs = views_for(actor)
    columns = []
    for view in tabs:
        scope = _scope(actor, view)
        columns += [_count(scope), _count(and_(scope, Case.due_at < now))]
    row = db.session.execute(
        select(*columns).where(status_in(OPEN_STATUSES), visible_to(actor))
    ).one()
    return {view: (int(row[2 * i]), int(row[2 * i + 1])) for i, view in enumerate(tabs)}


@dataclass(frozen=True)
class LoopFigures:
    """How well the loop is closed for one tab, over the last FIGURE_WINDOW."""

    open: int
    breached: int
    median_first_action: timedelta | None  # from the case appearing to the first action
    median_resolution: timedelta | None  # from the case appearing to it being closed
    closed: int
    closed_within_sla: int

    @property
    def within_sla_share(self) -> float | None:
        return self.closed_within_sla / self.closed if self.closed else None


def _sqlite_median(expression, conditions: list) -> timedelta | None:
    """SQLite has no percentile: the middle row(s) of the sorted durations (in seconds)."""
    count = db.session.scalar(select(func.count()).where(*conditions).select_from(Case))
    if not count:
        return None
    middle = db.session.scalars(
        select(expression).where(*conditions).order_by(expression)
        .limit(2 - count % 2).offset((count - 1) // 2)
    ).all()  # fmt: skip
    return timedelta(seconds=round(sum(middle) / len(middle)))


def _julian_seconds(later, earlier):
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


_figures_cache: dict[tuple, tuple[float, LoopFigures]] = {}


def cached_loop_figures(actor: User, view: str, *, now: datetime, seconds: int) -> LoopFigures:
    """loop_figures, kept `seconds` per tab and process: 90-day medians move slowly, and on
    SQLite with 100,000 cases one computation costs 100-250 ms (PostgreSQL: 10-35 ms)."""
    if seconds <= 0:
        return loop_figures(actor, view, now=now)
    key = (db.session.get_bind().url.render_as_string(), *_tab(actor, view))
    clock = time.monotonic()
    hit = _figures_cache.get(key)
    if hit is None or hit[0] < clock:
        if len(_figures_cache) > 1000:  # one entry per person and team: never this many
            _figures_cache.clear()
        hit = (clock + seconds, loop_figures(actor, view, now=now))
        _figures_cache[key] = hit
    return hit[1]


def loop_figures(actor: User, view: str, *, now: datetime) -> LoopFigures:
    """One pass over the tab's open cases and those made or closed in the window (each
    branch has its index); on PostgreSQL the medians come from the same statement."""
    scope = _scope(actor, view)
    since = now - FIGURE_WINDOW
    is_open = status_in(OPEN_STATUSES)
    closed_lately = and_(status_in(CLOSED_STATUSES), Case.closed_at >= since)
    acted_lately = and_(Case.created_at >= since, Case.first_action_at.is_not(None))
    counts = [
        _count(is_open),
        _count(and_(is_open, Case.due_at < now)),
        _count(closed_lately),
        _count(and_(closed_lately, Case.closed_at <= Case.due_at)),
    ]
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:  # intervals sort natively; no epoch arithmetic per row
        median = func.percentile_cont(0.5).within_group
        counts += [
            median(Case.first_action_at - Case.created_at).filter(acted_lately),
            median(Case.closed_at - Case.created_at).filter(closed_lately),
        ]
    row = db.session.execute(
        select(*counts).where(scope, or_(is_open, closed_lately, Case.created_at >= since))
    ).one()
    open_now, breached, closed, within = (int(value) for value in row[:4])
    if postgres:
        first_action, resolution = (_whole_seconds(value) for value in row[4:])
    else:
        first_action = _sqlite_median(
            _julian_seconds(Case.first_action_at, Case.created_at), [scope, acted_lately]
        )
        resolution = _sqlite_median(
            _julian_seconds(Case.closed_at, Case.created_at), [scope, closed_lately]
        )
    return LoopFigures(open_now, breached, first_action, resolution, closed, within)


def _whole_seconds(value: timedelta | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=round(value.total_seconds()))
