"""Overdue follow-ups: tell the person responsible, once per overdue period.

The daily job finds every overdue customer in one statement (status.overdue_statuses) and
records an alert per (customer, day the contact fell due): the primary key makes a second
run, on the same day or any later one, add nothing for the same period. Only a new contact
moves the due day, and a later overdue period is a new alert. Each person then gets ONE
digest mail listing their newly overdue customers: their own, and those of teams they are
in (C Retain goes to internal sales; a customer without an owner to the fallback team).

Like the case mails, alerts are claimed before a mail leaves (alerted_at NULL -> now, in one
guarded UPDATE), so two runs never send the same alert; an alert whose mails could not go
out for a reason that may pass is released for the next run.

Customers followed up by automated e-mail (D Retain) are not alerted to anyone: nobody owns
the contact in person. They stay visible on the Follow-ups page and in `followups overdue`,
where "overdue" means no survey reached them for a year; the remedy is the next wave.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import delete, or_, select, tuple_, update

from feedback.auth.models import User
from feedback.dbtypes import upsert_insert, utcnow
from feedback.delivery.message import DeliveryError, MailContent, OutgoingMessage
from feedback.extensions import db
from feedback.followups.programme import Programme
from feedback.followups.status import FollowupStatus, local_today, overdue_statuses
from feedback.risk.models import FollowupAlert

log = logging.getLogger(__name__)


@dataclass
class AlertReport:
    overdue: int = 0  # customers overdue today (automated ones included)
    new: int = 0  # newly overdue periods whose alert went out in this run
    mails: int = 0  # digests sent
    nobody: int = 0  # overdue, followed up in person, but nobody to tell

    def summary(self) -> str:
        return (
            f"{self.overdue} customers overdue, {self.new} newly alerted in {self.mails} "
            f"mails" + (f", {self.nobody} with nobody to alert" if self.nobody else "")
        )


def _recipients(statuses: list[FollowupStatus]) -> dict[int, list[User]]:
    """The active people to tell about each overdue customer: the owner, or a team's members."""
    team_ids = {s.responsible.team_id for s in statuses if s.responsible.kind == "team"}
    user_ids = {s.responsible.user_id for s in statuses if s.responsible.kind == "owner"}
    people = db.session.scalars(
        select(User).where(
            User.active.is_(True), or_(User.id.in_(user_ids), User.team_id.in_(team_ids))
        )
    ).all()
    by_team: dict[int, list[User]] = defaultdict(list)
    for person in people:
        if person.team_id is not None:
            by_team[person.team_id].append(person)
    by_id = {person.id: person for person in people}
    result = {}
    for s in statuses:
        who = s.responsible
        if who.kind == "owner":
            found = [by_id[who.user_id]] if who.user_id in by_id else []
        else:
            found = by_team.get(who.team_id, []) if who.kind == "team" else []
        result[s.customer_id] = found
    return result


def alert_overdue(config, backend, programme: Programme, *,
                  now: datetime | None = None) -> AlertReport:  # fmt: skip
    """Alert the people responsible for newly overdue customers; commits."""
    now = now or utcnow()
    tz = ZoneInfo(config.get("FEEDBACK_TIMEZONE") or "UTC")
    today = local_today(tz, now)
    statuses = overdue_statuses(programme, today, tz=tz)
    report = AlertReport(overdue=len(statuses))
    personal = [s for s in statuses if s.responsible.kind != "automated"]
    recipients = _recipients(personal)
    current = {(s.customer_id, s.due_on): s for s in personal if recipients[s.customer_id]}
    report.nobody = len(personal) - len(current)
    if current:
        db.session.execute(
            upsert_insert(FollowupAlert.__table__).on_conflict_do_nothing(),
            [
                {"customer_id": s.customer_id, "due_on": s.due_on,
                 "user_id": s.responsible.user_id, "team_id": s.responsible.team_id,
                 "created_at": now}
                for s in current.values()
            ],
        )  # fmt: skip
    claimed = db.session.execute(
        update(FollowupAlert)
        .where(FollowupAlert.alerted_at.is_(None))
        .values(alerted_at=now)
        .returning(FollowupAlert.customer_id, FollowupAlert.due_on)
        .execution_options(synchronize_session=False)
    ).all()
    # A claimed alert no longer overdue (contacted since a failed run) is dropped, not sent.
    stale = [tuple(key) for key in claimed if tuple(key) not in current]
    _delete(stale)
    keys = [tuple(key) for key in claimed if tuple(key) in current]
    db.session.commit()  # the claim stands before any mail leaves
    if keys:
        report.mails, report.new = _send_digests(
            config, backend, [current[k] for k in keys], recipients
        )
    return report


def _chunks(keys: list[tuple[int, date]], size: int = 500):
    """`(customer_id, due_on) IN (...)` conditions of at most `size` keys each."""
    key = tuple_(FollowupAlert.customer_id, FollowupAlert.due_on)
    for start in range(0, len(keys), size):
        yield key.in_(keys[start : start + size])


def _delete(keys: list[tuple[int, date]]) -> None:
    for chunk in _chunks(keys):
        db.session.execute(delete(FollowupAlert).where(chunk))


def _release(keys: list[tuple[int, date]]) -> None:
    """Give claimed alerts back to the next run."""
    for chunk in _chunks(keys):
        db.session.execute(
            update(FollowupAlert)
            .where(chunk)
            .values(alerted_at=None)
            .execution_options(synchronize_session=False)
        )


def _send_digests(config, backend, statuses: list[FollowupStatus],
                  recipients: dict[int, list[User]]) -> tuple[int, int]:  # fmt: skip
    """One mail per person with all of their newly overdue customers; commits. Returns the
    mails sent and the alerts that went out (the others wait for the next run)."""
    per_person: dict[int, list[FollowupStatus]] = defaultdict(list)
    people: dict[int, User] = {}
    for s in statuses:
        for person in recipients[s.customer_id]:
            per_person[person.id].append(s)
            people[person.id] = person
    messages = [digest(config, people[pid], rows) for pid, rows in per_person.items()]
    keys = [(s.customer_id, s.due_on) for s in statuses]
    try:
        results = backend.send(messages)
    except DeliveryError as exc:
        _release(keys)
        db.session.commit()
        log.warning("follow-up alerts not sent; %s left for the next run: %s", len(keys), exc)
        return 0, 0
    reached = {r.invitation_id for r in results if r.ok or r.permanent}
    for result in results:
        if not result.ok:
            log.warning("follow-up digest to user %s refused: %s", result.invitation_id,
                        result.detail)  # fmt: skip
    # An alert stays claimed when at least one of its people was reached (or refused for
    # good); otherwise it waits for the next run.
    waiting = [
        (s.customer_id, s.due_on) for s in statuses
        if not any(p.id in reached for p in recipients[s.customer_id])
    ]  # fmt: skip
    _release(waiting)
    db.session.commit()
    return sum(1 for r in results if r.ok), len(keys) - len(waiting)


def digest(config, person: User, statuses: list[FollowupStatus]) -> OutgoingMessage:
    """The mail to one person: each newly overdue customer, most overdue first."""
    base = config["FEEDBACK_BASE_URL"]
    tz = ZoneInfo(config.get("FEEDBACK_TIMEZONE") or "UTC")
    statuses = sorted(statuses, key=lambda s: (s.due_on, s.name.lower()))
    count = len(statuses)
    noun = "customer" if count == 1 else "customers"
    intro = (
        f"The follow-up of {count} {noun} is overdue. Contact them, then log the call, "
        "meeting or e-mail on the customer's page."
    )
    lines, items = [], []
    for s in statuses:
        link = f"{base}/customers/{quote(s.external_id, safe='')}"
        last = f"{s.last_contact_at.astimezone(tz):%Y-%m-%d}" if s.last_contact_at else "never"
        why = ""
        if s.responsible.kind == "team":
            why = f" · for the {s.responsible.name} team" + (
                ", the customer has no owner" if s.responsible.no_owner else ""
            )
        facts = (
            f"class {s.abc_class} {s.programme}, {s.rule.every if s.rule else ''}; last contact "
            f"{last}; due {s.due_on:%Y-%m-%d}, overdue by {_days(s.overdue_days)}{why}"
        )
        lines += [f"- {s.name} ({s.external_id}): {facts}", f"  {link}"]
        items.append(f'<li><a href="{escape(link)}">{escape(s.name)}</a> '
                     f"({escape(s.external_id)}): {escape(facts)}</li>")  # fmt: skip
    page = f"{base}/followups"
    text = "\n".join([f"Hello {person.display_name},", "", intro, "", *lines, "",
                      f"All overdue follow-ups: {page}", ""])  # fmt: skip
    html = (
        f"<p>Hello {escape(person.display_name)},</p><p>{escape(intro)}</p>"
        f"<ul>{''.join(items)}</ul>"
        f'<p><a href="{escape(page)}">All overdue follow-ups</a></p>'
    )
    return OutgoingMessage(
        invitation_id=person.id,  # the backends' result key: here a user id (kind="followup")
        to_email=person.email,
        to_name=person.display_name,
        content=MailContent(
            subject=f"Follow-up overdue: {count} {noun}"
            + (f" – {statuses[0].name}" if count == 1 else ""),
            html=html,
            text=text,
            language="en",
        ),
        kind="followup",
    )


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"
