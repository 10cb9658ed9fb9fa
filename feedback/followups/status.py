"""Follow-up status, set-based: for any set of customers at once, when they were last
contacted, when the next contact is due, who must make it, and who may see them.

A contact is a call, meeting, e-mail or note in the contact log, or a comment, status change
or resolution by a person on one of the customer's cases. For a programme followed up
`automated`ly, a survey invitation that reached the customer (sent, delivered or answered)
counts too. A customer never contacted is due one period after it was added. Days are the
company's (FEEDBACK_TIMEZONE): a follow-up due on the 5th is overdue from the 6th.

Who may log contacts for a customer, and see it on the Follow-ups page: its owner, the
owner's team, the team responsible for it by the programme (internal sales for C Retain, the
fallback team for a customer without an owner), and managers and admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, true, union_all
from sqlalchemy.orm import aliased

from feedback.auth.models import Team, User
from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.dbtypes import UTCDateTime, utcnow
from feedback.extensions import db
from feedback.followups.programme import Programme, Rule
from feedback.risk.models import ContactLog
from feedback.surveys.models import Invitation

# Case events that are a person acting on the customer's matter (not assigning it around).
PERSON_CASE_EVENTS = ("comment", "status", "resolved")
# Invitation states that mean the survey mail reached the customer.
DELIVERED = ("sent", "delivered", "answered")

Owner = aliased(User, name="owner")


@dataclass(frozen=True)
class Responsible:
    """Who must make the next contact."""

    kind: str  # owner | team | automated | nobody (no programme, or the team does not exist)
    user_id: int | None = None
    team_id: int | None = None
    name: str = ""  # the person's or the team's name
    no_owner: bool = False  # a team stands in because the customer has no (active) owner

    @property
    def label(self) -> str:
        if self.kind == "owner":
            return self.name
        if self.kind == "team":
            return f"{self.name} team" + (" (no owner)" if self.no_owner else "")
        if self.kind == "automated":
            return "Automated e-mail"
        if self.name:
            return f"Nobody: there is no team “{self.name}”"
        return "Nobody: not in a programme"


@dataclass(frozen=True)
class FollowupStatus:
    customer_id: int
    external_id: str
    name: str
    owner_id: int | None
    owner_name: str | None
    owner_email: str | None
    owner_team_id: int | None
    abc_class: str | None
    programme: str | None
    rule: Rule | None
    last_contact_at: datetime | None  # None: never contacted
    due_on: date | None  # None: not in a programme
    today: date
    responsible: Responsible

    @property
    def overdue_days(self) -> int:
        return (self.today - self.due_on).days if self.is_overdue else 0  # type: ignore[operator]

    @property
    def is_overdue(self) -> bool:
        return self.due_on is not None and self.due_on < self.today

    @property
    def days_left(self) -> int | None:
        return None if self.due_on is None else (self.due_on - self.today).days


def local_today(tz: tzinfo, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


# --- the last contact, set-based ----------------------------------------------------------


def _later(a, b):
    """The later of two nullable timestamps, in portable SQL."""
    return case((and_(b.is_not(None), or_(a.is_(None), b > a)), b), else_=a)


def last_contacts(customer_ids=None):
    """Subquery (customer_id, personal_at, automated_at): per customer the latest contact
    by a person and the latest survey mail that reached them; one pass over each source."""

    def only(column) -> list:
        return [] if customer_ids is None else [column.in_(customer_ids)]

    none = literal(None, UTCDateTime)
    logs = select(
        ContactLog.customer_id.label("customer_id"),
        func.max(ContactLog.at).label("personal_at"),
        none.label("automated_at"),
    )
    logs = logs.where(*only(ContactLog.customer_id)).group_by(ContactLog.customer_id)
    case_actions = (
        select(Case.customer_id, func.max(CaseEvent.at), none)
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(CaseEvent.actor_id.is_not(None), CaseEvent.kind.in_(PERSON_CASE_EVENTS),
               *only(Case.customer_id))
        .group_by(Case.customer_id)
    )  # fmt: skip
    surveys = (
        select(Invitation.customer_id, none, func.max(Invitation.sent_at))
        .where(Invitation.state.in_(DELIVERED), Invitation.sent_at.is_not(None),
               *only(Invitation.customer_id))
        .group_by(Invitation.customer_id)
    )  # fmt: skip
    every = union_all(logs, case_actions, surveys).subquery()
    return (
        select(every.c.customer_id,
               func.max(every.c.personal_at, type_=UTCDateTime).label("personal_at"),
               func.max(every.c.automated_at, type_=UTCDateTime).label("automated_at"))
        .group_by(every.c.customer_id)
        .subquery("last_contact")
    )  # fmt: skip


def _seen(rule: Rule, last):
    """The last contact that counts for `rule`."""
    if rule.automated:
        return _later(last.c.personal_at, last.c.automated_at)
    return last.c.personal_at


def overdue_condition(programme: Programme, today: date, tz: tzinfo, last):
    """SQL: the customer's follow-up fell due before `today` (one term per class and
    programme, each with its own cutoff moment)."""
    terms = []
    for (klass, prog), rule in programme.rules.items():
        cutoff = literal(_local_midnight(rule.cutoff(today), tz), UTCDateTime)
        seen = func.coalesce(_seen(rule, last), Customer.created_at)
        terms.append(and_(CustomerSegment.abc_class == klass, CustomerSegment.programme == prog,
                          seen < cutoff))  # fmt: skip
    return or_(*terms)


def automated_condition(programme: Programme):
    """SQL: the customer's class and programme is followed up by automated e-mail only."""
    combos = [
        and_(CustomerSegment.abc_class == klass, CustomerSegment.programme == prog)
        for (klass, prog), rule in programme.rules.items()
        if rule.automated
    ]
    return or_(*combos) if combos else false()


# --- who is responsible, who may see -----------------------------------------------------


def resolve_teams(programme: Programme) -> dict[str, Team]:
    """The teams the programme names, by lower-case name (missing ones are left out)."""
    names = {name.lower() for name in programme.team_names()}
    if not names:
        return {}
    teams = db.session.scalars(select(Team).where(func.lower(Team.name).in_(names)))
    return {team.name.lower(): team for team in teams}


def _responsible(rule: Rule | None, row, teams: dict[str, Team]) -> Responsible:
    if rule is None:
        return Responsible("nobody")
    if rule.automated:
        return Responsible("automated")
    if rule.by == "owner" and row.owner_id is not None and row.owner_active:
        name = row.owner_name or row.owner_email
        return Responsible("owner", user_id=row.owner_id, name=name)
    wanted = rule.team or rule.fallback_team or ""
    team = teams.get(wanted.lower())
    if team is None:
        return Responsible("nobody", name=wanted, no_owner=rule.by == "owner")
    return Responsible("team", team_id=team.id, name=team.name, no_owner=rule.by == "owner")


def visible_condition(actor: User, programme: Programme, teams: dict[str, Team]):
    """SQL: the customers `actor` may follow up (see the module docstring)."""
    if actor.role in ("manager", "admin"):
        return true()
    terms = [Customer.owner_id == actor.id]
    if actor.team_id is not None:
        terms.append(Owner.team_id == actor.team_id)
        no_active_owner = or_(Customer.owner_id.is_(None), Owner.active.is_(False))
        for (klass, prog), rule in programme.rules.items():
            combo = and_(CustomerSegment.abc_class == klass, CustomerSegment.programme == prog)
            team = teams.get((rule.team or "").lower())
            if team is not None and team.id == actor.team_id:
                terms.append(combo)
            fallback = teams.get((rule.fallback_team or "").lower())
            if fallback is not None and fallback.id == actor.team_id:
                terms.append(and_(combo, no_active_owner))
    return or_(*terms)


def may_follow_up(actor: User, status: FollowupStatus) -> bool:
    """The same rule as visible_condition, for one customer already loaded."""
    if actor.role in ("manager", "admin") or status.owner_id == actor.id:
        return True
    if actor.team_id is None:
        return False
    return actor.team_id in (status.owner_team_id, status.responsible.team_id)


# --- status ------------------------------------------------------------------------------


def status_query(programme: Programme, today: date, tz: tzinfo, *, customer_ids=None,
                 overdue: bool = False) -> Select:  # fmt: skip
    """Customers with owner, current segment and last contacts; only the overdue ones (in a
    programme) when `overdue`. Callers add conditions on Customer, Owner, CustomerSegment."""
    last = last_contacts(customer_ids)
    segment = and_(
        CustomerSegment.customer_id == Customer.id, CustomerSegment.run_id == latest_run_id()
    )
    query = (
        select(Customer.id, Customer.external_id, Customer.name, Customer.owner_id,
               Customer.created_at, Owner.name.label("owner_name"),
               Owner.email.label("owner_email"), Owner.active.label("owner_active"),
               Owner.team_id.label("owner_team_id"), CustomerSegment.abc_class,
               CustomerSegment.programme, last.c.personal_at, last.c.automated_at)
        .outerjoin(Owner, Owner.id == Customer.owner_id)
        .outerjoin(last, last.c.customer_id == Customer.id)
    )  # fmt: skip
    if overdue:
        query = query.join(CustomerSegment, segment).where(
            overdue_condition(programme, today, tz, last)
        )
    else:
        query = query.outerjoin(CustomerSegment, segment)
    if customer_ids is not None:
        query = query.where(Customer.id.in_(customer_ids))
    return query


def statuses_from(rows, programme: Programme, today: date, tz: tzinfo,
                  teams: dict[str, Team]) -> list[FollowupStatus]:  # fmt: skip
    """FollowupStatus for rows of status_query."""
    result = []
    for row in rows:
        rule = programme.rule(row.abc_class, row.programme)
        last, due_on = row.personal_at, None
        if rule is not None:
            if rule.automated and row.automated_at and (last is None or row.automated_at > last):
                last = row.automated_at
            due_on = rule.due_after((last or row.created_at).astimezone(tz).date())
        result.append(FollowupStatus(
            customer_id=row.id, external_id=row.external_id, name=row.name,
            owner_id=row.owner_id, owner_name=row.owner_name or row.owner_email,
            owner_email=row.owner_email, owner_team_id=row.owner_team_id,
            abc_class=row.abc_class, programme=row.programme, rule=rule,
            last_contact_at=last, due_on=due_on,
            today=today, responsible=_responsible(rule, row, teams),
        ))  # fmt: skip
    return result


def followup_status(customer_ids, today: date, *, programme: Programme,
                    tz: tzinfo = UTC) -> dict[int, FollowupStatus]:  # fmt: skip
    """Each customer's follow-up status on `today`, in three statements whatever the count."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = db.session.execute(status_query(programme, today, tz, customer_ids=ids)).all()
    teams = resolve_teams(programme)
    return {s.customer_id: s for s in statuses_from(rows, programme, today, tz, teams)}


def overdue_statuses(programme: Programme, today: date, *, tz: tzinfo = UTC,
                     conditions=()) -> list[FollowupStatus]:  # fmt: skip
    """Every customer whose follow-up is overdue on `today` (and meets `conditions`), most
    overdue first."""
    query = status_query(programme, today, tz, overdue=True).where(*conditions)
    rows = db.session.execute(query).all()
    statuses = statuses_from(rows, programme, today, tz, resolve_teams(programme))
    return sorted(statuses, key=lambda s: (s.due_on, s.name.lower(), s.customer_id))
