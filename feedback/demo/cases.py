"""A year of worked cases for the demo: the survey history routed as the job would have
routed it, then handled by the staff as they would have handled it.

Routing goes through routing.engine.route_responses in the job's batch size; decisions,
cases and "created" events then get the times the minute-by-minute job would have written
(answered + settle, at its next run). Working a case is simulated from one row of uniform
draws (so a case's story does not depend on how many cases follow it): the first action and
the closing fall in office hours, most cases close within their deadline and some late (worse
in the support queue and in July), and late ones are escalated as the escalation job does.
Staff name a root cause on most complaints they resolve (the comment's theme where it names
one, else what the call brought up), seldom on those closed without action. On about half of
the resolved complaints they ask the customer "did we solve it?"; the mail job sends it, most
answer, and a "no" reopens the case with a fresh deadline as the public page does, after which
it is worked and resolved again.
What would happen after the moment of seeding is left undone: the latest wave's cases that
still have time are mostly open (new, in progress, waiting), a few are breached. Every case
is marked notified (and acknowledged, escalated where due), so the jobs do not mail about
history when the demo starts.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select, text, update

from feedback.analysis.themes import tag_themes
from feedback.auth.models import Team, User
from feedback.cases.followup import ANSWER_WINDOW
from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.demo.case_texts import (
    CLOSERS,
    NO_ACTION_REASONS,
    NOTES,
    OUTCOMES,
    PROMOTER_NO_ACTION,
    PROMOTER_OUTCOMES,
    REOPENED_OUTCOMES,
)
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.routing.engine import ensure_teams, route_responses
from feedback.routing.rules import RuleError, load_rules
from feedback.surveys.models import Invitation, InvitationEvent

ROUTE_BATCH = 5000  # the routing job's own batch size
OFFICE = timedelta(hours=1)  # staff work Nordic office hours, 8-17 CET (summer time ignored)
OPENS, CLOSES = 8, 17
MIN_WORK = timedelta(minutes=30)  # no case is handled in less
# Share of cases closed after their deadline, by team: the shared support queue is the
# slowest, account managers with their own customers the fastest; July is holiday time.
LATE = {"Key accounts": 0.07, "Internal sales": 0.11, "Customer support": 0.2}
LATE_DEFAULT = 0.12
LATE_BY_MONTH = {7: 0.15, 12: 0.05}
# Urgent and high-priority cases are often picked up at the weekend too.
WEEKEND_WORK = {"urgent": 0.7, "high": 0.4}
NO_ACTION = {"complaint": 0.07, "promoter": 0.05}
NOTE = {"complaint": 0.75, "promoter": 0.35}  # an internal note before closing
WAITING = 0.18  # complaints that wait on the customer before they are closed
CURRENCY = {"da": ("DKK", 7.5, 50), "sv": ("SEK", 11.5, 100), "nb": ("NOK", 11.5, 100)}
CREDIT_EUR = (75, 100, 150, 200, 250, 300, 400, 500, 750)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
DRAWS = 28  # uniform draws per case, see _Draw
# Root causes: how often staff record one when the comment names no theme, and what the call
# brought up then (about as often as the comments name each theme).
ROOT_NAMED = {"resolved": 0.85, "no_action": 0.3}
ROOT_CAUSES = {
    "delivery": 0.22, "service": 0.19, "communication": 0.11, "price": 0.11, "quality": 0.1,
    "invoicing": 0.08, "staff": 0.05, "product_range": 0.05, "returns_and_claims": 0.05,
    "web_shop": 0.04,
}  # fmt: skip
# "Did we solve it?": asked on resolved complaints, sent by the mail job (every 5 minutes),
# answered by most within a day or two; "no" more often when the case was closed late.
FOLLOWUP_ASKED, FOLLOWUP_ANSWERED = 0.5, 0.6
FOLLOWUP_JOB_SECONDS = 300
FOLLOWUP_HOURS = 20  # mean hours to the customer's answer
NOT_SOLVED, NOT_SOLVED_LATE = 0.12, 0.15
ESCALATION_SECONDS = 300


class _Bulk(NamedTuple):
    write_rows: Callable
    to_db_time: Callable
    bare_table: Callable


@dataclass
class CaseHistory:
    cases: int = 0
    by_status: Counter = field(default_factory=Counter)
    within_sla: float | None = None  # share of closed cases closed by their deadline
    notes: list[str] = field(default_factory=list)


def seed_cases(config, rng, *, write_rows, to_db_time, bare_table,
               now: datetime | None = None) -> CaseHistory:  # fmt: skip
    """Route every answer in the database and work the cases up to `now`; flushes.

    `write_rows`, `to_db_time` and `bare_table` are the seed's bulk writer, time converter
    and constraint remover (passed in: the seed imports this module)."""
    bulk = _Bulk(write_rows, to_db_time, bare_table)
    history = CaseHistory()
    try:
        rules = load_rules(config["FEEDBACK_ROUTING_FILE"])
    except RuleError as exc:  # the routing job would fail the same way: say so, seed the rest
        history.notes.append(f"no cases: the routing rules cannot be used ({exc})")
        return history
    now = now or utcnow()
    settle = timedelta(minutes=config["FEEDBACK_ROUTING_SETTLE_MINUTES"])
    ensure_teams(rules)
    decided = _route(rules, settle, now, bulk)
    try:
        zone = ZoneInfo(config.get("FEEDBACK_TIMEZONE") or "UTC")
    except (ValueError, LookupError):
        zone = ZoneInfo("UTC")
    _work(rules, rng, decided, now, bulk, history, zone)
    return history


def _tick(moment: datetime, seconds: int) -> datetime:
    """The next run of a job that runs every `seconds` (plus the moment it takes)."""
    stamp = math.ceil(moment.timestamp() / seconds) * seconds + 2
    return datetime.fromtimestamp(stamp, UTC)


def _route(rules, settle, now, bulk: _Bulk) -> dict[int, datetime]:
    """Decide every response with the engine, in the job's batch size; returns response id ->
    the moment the minute-by-minute job would have decided it.

    Each batch is routed with the clock at its last answer's moment (never before an answer),
    and the decisions, cases and their "created" events are then stamped per response with
    the job's moment. One call per minute with answers, as the job made them, would be
    thousands of calls of a few rows each."""
    answers = db.session.execute(
        select(Response.id, Response.answered_at).order_by(Response.answered_at, Response.id)
    ).all()
    decided = {rid: min(_tick(at + settle, 60), now) for rid, at in answers}
    for lo in range(0, len(answers), ROUTE_BATCH):
        batch = [rid for rid, _at in answers[lo : lo + ROUTE_BATCH]]
        route_responses(rules, batch, now=decided[batch[-1]], announce=False)
    _bulk_update(
        "routing_decisions", "response_id", ("decided_at",),
        ((rid, bulk.to_db_time(at)) for rid, at in decided.items()), bulk.write_rows,
    )  # fmt: skip
    return decided


@cache
def _themes(comment: str, language: str) -> tuple[str, ...]:
    return tuple(tag_themes(comment, language)) if comment else ()


def _at_work(moment: datetime, jitter: float, weekend: bool = False) -> datetime:
    """`moment` if the office is open then, else the next opening (plus up to two hours)."""
    local, days = moment + OFFICE, 7 if weekend else 5
    if local.weekday() < days and OPENS <= local.hour < CLOSES:
        return moment
    day = local.date() if local.hour < OPENS else local.date() + timedelta(1)
    while day.weekday() >= days:
        day += timedelta(1)
    return datetime.combine(day, time(OPENS), UTC) - OFFICE + timedelta(minutes=120 * jitter)


def _left_work(moment: datetime, jitter: float, weekend: bool = False) -> datetime:
    """`moment` if the office is open then, else the last closing before it (less up to 1.5 h)."""
    local, days = moment + OFFICE, 7 if weekend else 5
    if local.weekday() < days and OPENS <= local.hour < CLOSES:
        return moment
    day = local.date() if local.hour >= CLOSES else local.date() - timedelta(1)
    while day.weekday() >= days:
        day -= timedelta(1)
    return datetime.combine(day, time(CLOSES), UTC) - OFFICE - timedelta(minutes=90 * jitter)


def _pick(bank, draw: float):
    return bank[min(int(draw * len(bank)), len(bank) - 1)]


def _day(moment: datetime | date) -> str:
    return f"{moment.day} {moment:%B}"


def _amount(language: str, draw: float) -> str:
    euros = _pick(CREDIT_EUR, draw)
    if language not in CURRENCY:
        return f"EUR {euros:,}"
    code, rate, step = CURRENCY[language]
    return f"{code} {max(step, round(euros * rate / step) * step):,}"


class _Draw:
    """Which of a case's uniform draws is used for what."""

    late, close, first, pick, jitter, jitter2, note, note_at, waiting, waiting_at = range(10)
    no_action, actor, amount, weekday, n, weeks, dates, closer, note_pick, overrun = range(10, 20)
    weekend, asked, answers, answer_delay, solved, reclose, root_named, root_pick = range(20, 28)


class _Placeholders(dict):
    """The texts' placeholders, each worked out only when a text uses it."""

    def __init__(self, name, language, created, closed, d) -> None:
        super().__init__(contact=(name or "").split(" ")[0] or "the customer")
        self.language, self.created, self.closed, self.d = language, created, closed, d

    def __missing__(self, key: str):
        d, created, closed = self.d, self.created, self.closed
        value = {
            "amount": lambda: _amount(self.language, d[_Draw.amount]),
            "weekday": lambda: _pick(WEEKDAYS, d[_Draw.weekday]),
            "n": lambda: 2 + int(d[_Draw.n] * 5),
            "weeks": lambda: 2 + int(d[_Draw.weeks] * 3),
            "month": lambda: f"{created:%B}",
            "earlier": lambda: _day(created - timedelta(days=2 + int(d[_Draw.dates] * 18))),
            "done": lambda: _day(closed),
            "later": lambda: _day(closed + timedelta(days=7 + int(d[_Draw.dates] * 23))),
        }[key]()
        self[key] = value
        return value


def _work(rules, rng, decided, now, bulk: _Bulk, history: CaseHistory, zone) -> None:
    to_db_time = bulk.to_db_time
    by_key = {rule.key: rule for rule in rules.rules}
    teams = dict(db.session.execute(select(Team.id, Team.name)).all())
    people = db.session.execute(
        select(User.id, User.name, User.email, User.role, User.team_id)
        .where(User.active.is_(True))
        .order_by(User.id)
    ).all()
    name_of = {p.id: p.name or p.email for p in people}
    managers = [p for p in people if p.role == "manager"]
    # Who takes a team's queue cases: its agents, else its managers; a team nobody sits in
    # is covered by the managers, else the admins (who may act on every case).
    takers: dict[int | None, list[int]] = {}
    for role in ("manager", "agent"):  # agents last, so they replace the managers
        by_team: dict[int, list[int]] = {}
        for person in people:
            if person.role == role and person.team_id is not None:
                by_team.setdefault(person.team_id, []).append(person.id)
        takers.update(by_team)
    cover = [p.id for p in managers] or [p.id for p in people if p.role == "admin"]
    rows = db.session.execute(
        select(
            Case.id, Case.response_id, Case.rule_key, Case.assignee_id, Case.team_id,
            Case.due_at, Response.comment, Response.language, Contact.id.label("contact_id"),
            Contact.name, Contact.email,
        )
        .join(Response, Response.id == Case.response_id)
        .outerjoin(Invitation, Invitation.id == Response.invitation_id)
        .outerjoin(Contact, Contact.id == Invitation.contact_id)
        .order_by(Case.response_id)
    ).all()  # fmt: skip
    # One row of draws per case in answer order: the open wave's cases come last, so the
    # history before them is the same whatever the clock says about the open wave.
    draws = np.random.default_rng(rng.integers(2**63)).random((len(rows), DRAWS))
    left = _left_at()
    updates, events = [], []
    closed = on_time = 0
    for row, d in zip(rows, draws, strict=True):
        rule = by_key.get(row.rule_key)
        kind = "promoter" if rule and set(rule.when.bands) == {"promoter"} else "complaint"
        created, due = decided[row.response_id], row.due_at
        priority = rule.priority if rule else "normal"
        story = _simulate(d, created, due, teams.get(row.team_id), kind, priority)
        themes = _themes((row.comment or "").strip(), row.language)
        theme = themes[0] if themes else None
        end = "no_action" if d[_Draw.no_action] < NO_ACTION[kind] else "resolved"
        if kind == "complaint" and theme is None and d[_Draw.root_named] < ROOT_NAMED[end]:
            theme = _weighted(ROOT_CAUSES, d[_Draw.root_pick])
        values = _Placeholders(row.name, row.language, created, story["close"], d)
        actor = row.assignee_id
        if actor is None:
            pool = takers.get(row.team_id) or cover
            actor = _pick(pool, d[_Draw.actor]) if pool else None
        happened = []  # (at, actor, kind, detail)
        notified = min(_tick(created, 60), now)
        acknowledged = None
        if rule and rule.acknowledge:
            acknowledged = min(notified + timedelta(seconds=1), now)
            if row.email and story["close"] > acknowledged and due > acknowledged:
                who = f"{row.name} <{row.email}>" if row.name else row.email
                happened.append((acknowledged, None, "acknowledged",
                                 f"Acknowledgement e-mailed to {who} ({row.language}): "
                                 f"an answer promised by {due:%Y-%m-%d}"))  # fmt: skip
        if row.assignee_id is None and actor is not None:  # taking a queue case, as reassign
            happened.append((story["first"], actor, "assigned", f"assigned to {name_of[actor]}"))
        happened.append((story["first"], actor, "status", "new → in_progress"))
        if story["note"] is not None:
            bank = NOTES["promoter"] if kind == "promoter" else NOTES.get(theme) or NOTES[None]
            if kind == "complaint" and theme and d[_Draw.note_pick] < 0.4:
                bank = NOTES[None]
            note = _pick(bank, d[_Draw.note_pick]).format_map(values)
            happened.append((story["note"], actor, "comment", note))
        if story["waiting"] is not None:
            happened.append(
                (story["waiting"], actor, "status", "in_progress → waiting_on_customer")
            )
        escalated = story["escalated"] if story["escalated"] and story["escalated"] <= now else None
        to = [m for m in managers if m.team_id == row.team_id] or managers
        names = ", ".join(name_of[m.id] for m in to) or "no manager on file"
        escalation = f"Past its deadline; escalated to {names}"
        if escalated:
            happened.append((escalated, None, "escalated", escalation))
        outcome = _outcome(kind, end, theme, d, values)
        before = "waiting_on_customer" if story["waiting"] is not None else "in_progress"
        happened.append((story["close"], actor, "resolved", f"{before} → {end}: {outcome}"))
        close, followup = story["close"], None
        asked = kind == "complaint" and end == "resolved" and d[_Draw.asked] < FOLLOWUP_ASKED
        if asked and row.email:
            who = f"{row.name} <{row.email}>" if row.name else row.email
            followup = _followup(d, created, due, close, who, left.get(row.contact_id), now, zone)
        if followup is not None:
            happened += followup.events
            if followup.solved is False:  # reopened with a fresh deadline, worked again
                due, close = followup.due, followup.reclose
                again = _pick(REOPENED_OUTCOMES, d[_Draw.pick]).format_map(values)
                happened.append((close, actor, "resolved", f"in_progress → resolved: {again}"))
                if escalated is None and close > _tick(due, ESCALATION_SECONDS):
                    escalated = _tick(due, ESCALATION_SECONDS)
                    if escalated <= now:
                        happened.append((escalated, None, "escalated", escalation))
                    else:
                        escalated = None
                if close <= now:
                    outcome = again

        # Only what had happened by now stands: a case not touched yet is new, and so on.
        happened = sorted((e for e in happened if e[0] <= now), key=lambda e: e[0])
        first_action = story["first"] if story["first"] <= now else None
        assignee = row.assignee_id if first_action is None else actor or row.assignee_id
        if close <= now:
            status, closed_at = end, close
            closed += 1
            on_time += closed_at <= due
        elif close != story["close"]:  # reopened by the customer's "no": the outcome stays
            status, closed_at = "in_progress", None
        else:
            closed_at, outcome = None, ""
            waiting = story["waiting"] is not None and story["waiting"] <= now
            status = "new" if first_action is None else (
                "waiting_on_customer" if waiting else "in_progress"
            )  # fmt: skip
        # Staff name the root cause of a complaint as they work it; a thank-you has none.
        root_cause = theme if kind == "complaint" and first_action is not None else None
        history.by_status[status] += 1
        updates.append((
            row.id, status, assignee, to_db_time(created),
            to_db_time(max([created, *(e[0] for e in happened)])),
            to_db_time(first_action) if first_action else None,
            to_db_time(closed_at) if closed_at else None, outcome, root_cause,
            to_db_time(notified), to_db_time(acknowledged) if acknowledged else None,
            to_db_time(escalated) if escalated else None, to_db_time(due),
            *(followup.columns(to_db_time) if followup else (None, None, None, None)),
        ))  # fmt: skip
        events.extend(
            (row.id, who, what, detail, to_db_time(at)) for at, who, what, detail in happened
        )
    history.cases = len(rows)
    history.within_sla = on_time / closed if closed else None
    if not rows:
        return
    with bulk.bare_table(Case.__table__, sqlite_indexes=True):
        _bulk_update(
            "cases", "id",
            ("status", "assignee_id", "created_at", "updated_at", "first_action_at", "closed_at",
             "outcome", "root_cause", "notified_at", "acknowledged_at", "escalated_at", "due_at",
             "followup_token", "followup_sent_at", "followup_solved", "followup_answered_at"),
            updates, bulk.write_rows,
        )  # fmt: skip
    # The engine's "created" events carry its batch's clock; they happened with the case.
    db.session.execute(
        update(CaseEvent)
        .where(CaseEvent.kind == "created")
        .values(at=select(Case.created_at).where(Case.id == CaseEvent.case_id).scalar_subquery())
        .execution_options(synchronize_session=False)
    )
    with bulk.bare_table(CaseEvent.__table__):
        bulk.write_rows("case_events", ("case_id", "actor_id", "kind", "detail", "at"), events)
    db.session.flush()


def _left_at() -> dict[int, datetime]:
    """contact id -> when mail to it stopped: its first bounce, drop or unsubscribe."""
    return dict(
        db.session.execute(
            select(Invitation.contact_id, func.min(InvitationEvent.at))
            .join(InvitationEvent, InvitationEvent.invitation_id == Invitation.id)
            .where(InvitationEvent.kind.in_(("bounce", "dropped", "unsubscribed")))
            .group_by(Invitation.contact_id)
        ).all()
    )


def _weighted(weights: dict, draw: float):
    total = 0.0
    for key, weight in weights.items():
        total += weight
        if draw < total:
            return key
    return key


@dataclass
class _Followup:
    """The customer's "did we solve it?" on one case, as the job and the public page leave it."""

    token: str
    sent: datetime
    events: list  # (at, actor, kind, detail)
    answered: datetime | None = None
    solved: bool | None = None
    due: datetime | None = None  # the fresh deadline of a reopened case
    reclose: datetime | None = None  # when it was resolved again

    def columns(self, to_db_time) -> tuple:
        answered = to_db_time(self.answered) if self.answered else None
        return self.token, to_db_time(self.sent), self.solved, answered


def _followup(d, created: datetime, due: datetime, close: datetime, who: str,
              gone: datetime | None, now: datetime, zone) -> _Followup | None:  # fmt: skip
    """Asked on resolving: sent at the mail job's next run; the answer as answer_followup
    records it (a "no" reopens the case with a deadline as long as the first)."""
    sent = _tick(close, FOLLOWUP_JOB_SECONDS)
    if sent > now or (gone is not None and gone <= sent):  # the job skips them: no follow-up
        return None
    until = (sent + ANSWER_WINDOW).astimezone(zone)
    followup = _Followup(secrets.token_urlsafe(24), sent, [(
        sent, None, "followup_sent",
        f"Asked {who} whether the problem is solved (answers until {until:%Y-%m-%d})",
    )])  # fmt: skip
    hours = FOLLOWUP_HOURS * -math.log(1 - d[_Draw.answer_delay])
    answered = sent + min(timedelta(hours=hours), ANSWER_WINDOW - timedelta(hours=1))
    if d[_Draw.answers] >= FOLLOWUP_ANSWERED or answered > now:
        return followup
    followup.answered = answered
    unhappy = NOT_SOLVED + (NOT_SOLVED_LATE if close > due else 0)
    followup.solved = bool(d[_Draw.solved] >= unhappy)
    if followup.solved:
        followup.events.append((answered, None, "followup", "Customer says the problem is solved"))
        return followup
    followup.due = max(due, answered + max(due - created, timedelta(hours=1)))
    followup.events.append((
        answered, None, "followup",
        "Customer says the problem is not solved; reopened (resolved → in_progress), "
        f"new deadline {followup.due:%Y-%m-%d %H:%M} UTC",
    ))  # fmt: skip
    target = answered + (followup.due - answered) * (0.1 + 0.6 * d[_Draw.reclose])
    followup.reclose = max(_at_work(target, d[_Draw.jitter2]), answered + MIN_WORK)
    return followup


def _simulate(d, created: datetime, due: datetime, team: str | None, kind: str,
              priority: str) -> dict:  # fmt: skip
    """When the case is first touched, noted, put on hold, escalated and closed."""
    span = max(due - created, MIN_WORK)
    weekend = d[_Draw.weekend] < WEEKEND_WORK.get(priority, 0)
    late = d[_Draw.late] < LATE.get(team, LATE_DEFAULT) + LATE_BY_MONTH.get(created.month, 0)
    if late:  # the deadline slipped: closed some time after it, at work
        overrun = span * min(0.4 * -math.log(1 - d[_Draw.overrun]), 3)
        close = _at_work(due + overrun + timedelta(minutes=30), d[_Draw.jitter])
    else:
        # Short deadlines are worked at once; long ones, like all work, closer to the deadline.
        share = 0.15 + 0.8 * d[_Draw.close] if span <= timedelta(days=2) else (
            0.4 + 0.57 * d[_Draw.close] ** 0.5
        )  # fmt: skip
        target = created + span * share
        close = _at_work(target, d[_Draw.jitter], weekend)
        if close > due:  # the office opens too late: finish the evening before if possible
            earlier = _left_work(target, d[_Draw.jitter], weekend)
            close = earlier if earlier >= created + MIN_WORK else close
    close = max(close, created + MIN_WORK)
    start = created + (close - created) * (0.7 * d[_Draw.first] ** 1.6)
    first = _at_work(start, d[_Draw.jitter2], weekend)
    first = min(max(first, created + timedelta(minutes=3)), close - timedelta(minutes=10))
    note = waiting = None
    if d[_Draw.note] < NOTE[kind]:
        note = first + (close - first) * (0.1 + 0.5 * d[_Draw.note_at])
        note = _at_work(note, d[_Draw.jitter2], weekend)
        note = min(max(note, first + timedelta(minutes=2)), close - timedelta(minutes=5))
    if kind == "complaint" and d[_Draw.waiting] < WAITING:
        waiting = first + (close - first) * (0.45 + 0.35 * d[_Draw.waiting_at])
        waiting = _at_work(waiting, d[_Draw.jitter2], weekend)
        waiting = min(max(waiting, (note or first) + timedelta(minutes=1)), close)
    escalated = _tick(due, 300) if close > _tick(due, 300) else None
    return {"first": first, "note": note, "waiting": waiting, "close": close,
            "escalated": escalated}  # fmt: skip


def _outcome(kind: str, end: str, theme: str | None, d, values) -> str:
    if kind == "promoter":
        bank = PROMOTER_NO_ACTION if end == "no_action" else PROMOTER_OUTCOMES
    elif end == "no_action":
        bank = NO_ACTION_REASONS
    else:
        bank = OUTCOMES[theme]
    text_ = _pick(bank, d[_Draw.pick]).format_map(values)
    if kind == "complaint" and end == "resolved" and d[_Draw.closer] < 0.35:
        text_ += " " + _pick(CLOSERS, d[_Draw.closer] / 0.35).format_map(values)
    return text_[0].upper() + text_[1:]


def _bulk_update(table: str, key: str, columns, rows, write_rows) -> None:
    """UPDATE many rows by key: COPY into a temporary twin and one UPDATE ... FROM on
    PostgreSQL, executemany on SQLite (both far faster than an ORM object per row)."""
    connection = db.session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        temp = f"demo_{table}_update"
        db.session.execute(
            text(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS "
                 f"SELECT {key}, {names} FROM {table} WITH NO DATA")
        )  # fmt: skip
        write_rows(temp, (key, *columns), rows)
        sets = ", ".join(f"{c} = u.{c}" for c in columns)
        db.session.execute(
            text(f"UPDATE {table} SET {sets} FROM {temp} u WHERE {table}.{key} = u.{key}")
        )
        db.session.execute(text(f"DROP TABLE {temp}"))
        return
    sets = ", ".join(f"{c} = ?" for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    cursor.executemany(
        f"UPDATE {table} SET {sets} WHERE {key} = ?", ((*row[1:], row[0]) for row in rows)
    )
    cursor.close()
