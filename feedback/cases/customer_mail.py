"""Mail to the customer behind a case: the acknowledgement and the "did we solve it?" follow-up.

Acknowledgement: for rules with `acknowledge: true`, the contact who answered hears "we have
read your answer, and <owner or team> will get back to you by <deadline>", nothing more.
Follow-up: after staff resolve a case and ask for it (`request_followup`), the contact gets
Yes / No links to /f/<token>; the public page (cases.public, with cases.followup) records the
answer, and a "no" reopens the case.

Both jobs claim each case once, like notify and escalation (acknowledged_at or
followup_sent_at IS NULL -> now in one guarded UPDATE), and commit the claim before a mail
leaves, so a customer never gets one twice however often or wherever the jobs run. A batch the
backend cannot take at all, or a message it refuses only for now, is released for the next
run. When nothing can be sent (opted out, bounced, refused for good) the case's history says
why; acknowledged_at stays set, while a follow-up goes back to "not sent" (its token dropped,
as nobody holds the link). The mails are tagged kind="case" (the id is the case's), so
delivery events never touch an invitation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import aliased

from feedback.auth.models import Team, User
from feedback.cases.customer_strings import long_date, words
from feedback.cases.followup import ANSWER_WINDOW
from feedback.cases.models import OPEN_STATUSES, Case, CaseEvent
from feedback.cases.notify import claim_cases, deliver_case_mail, release_cases
from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.delivery.message import MailContent, OutgoingMessage
from feedback.delivery.render import mail_environment
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.surveys.models import Invitation

# Only fresh cases are acknowledged: switching `acknowledge` on for a rule must not mail
# customers about answers they gave weeks ago.
ACK_WITHIN = timedelta(days=2)
# A follow-up that could not go out is "not sent" again, its unused link forgotten.
_UNSENT_FOLLOWUP = (Case.followup_sent_at, Case.followup_token)


# the acknowledgement -----------------------------------------------------------------------


def acknowledge_cases(config, backend, rules, *, now: datetime | None = None) -> int:
    """Acknowledge every new case of an acknowledging rule once; the number of mails sent.

    `rules` is the RuleSet from routing.rules.load_rules (or any iterable of Rule). Commits."""
    now = now or utcnow()
    keys = [rule.key for rule in getattr(rules, "rules", rules) if rule.acknowledge]
    if not keys:
        return 0
    ids = claim_cases(
        Case.acknowledged_at, Case.rule_key.in_(keys), Case.created_at >= now - ACK_WITHIN, now=now
    )
    if not ids:
        db.session.commit()
        return 0
    zone = _zone(config)
    outgoing = {}
    for target in _targets(ids):
        case, contact = target.case, target.contact
        reason = _unreachable(contact) or (
            "the case was closed before it went out"
            if case.status not in OPEN_STATUSES
            else "its deadline has already passed"
            if case.due_at <= now
            else None
        )
        if reason:
            _event(case.id, "not_acknowledged", f"No acknowledgement sent: {reason}", now)
            continue
        by = long_date(_local_day(case.due_at, zone), contact.language, weekday=True)
        outgoing[case.id] = (
            _ack_message(config, target, by),
            "acknowledged",
            f"Acknowledgement e-mailed to {_who(contact)} ({contact.language}): "
            f"an answer promised by {case.due_at.astimezone(zone):%Y-%m-%d}",
        )
    db.session.commit()  # the claim and the skips stand before any mail leaves
    return _deliver(backend, Case.acknowledged_at, outgoing, failed="not_acknowledged", now=now)


def _ack_message(config, target: _Target, by: str) -> OutgoingMessage:
    contact = target.contact
    text = words(contact.language)
    if target.person:
        body = text["ack_person"].format(person=target.person, date=by)
    elif target.team:
        body = text["ack_team"].format(team=target.team, date=by)
    else:
        body = text["ack_we"].format(date=by)
    context = _common(config, contact, text) | {"subject": text["ack_subject"], "body": body}
    return _message(target.case, contact, "case_ack", context)


# the "did we solve it?" follow-up ----------------------------------------------------------


def request_followup(case: Case, *, now: datetime | None = None) -> Case:
    """Ask the customer of a resolved case whether the problem is solved; the job mails them.

    Idempotent: the token is made once, and the question goes out once per case. Raises
    DomainError when the case is not resolved or has no answering contact. Flushes."""
    now = now or utcnow()
    if case.status != "resolved":
        raise DomainError("only a resolved case can be followed up with the customer")
    if case.response_id is None or _contact_of(case.response_id) is None:
        raise DomainError("the case has no customer answer, so there is nobody to ask")
    if case.followup_token is None:
        case.followup_token = secrets.token_urlsafe(24)
        case.updated_at = now
    db.session.flush()
    return case


def send_followups(config, backend, *, now: datetime | None = None) -> int:
    """Mail the follow-up of every resolved case that asks for one, once; the number sent.

    A case reopened before the job ran waits until it is resolved again. Commits."""
    now = now or utcnow()
    ids = claim_cases(
        Case.followup_sent_at,
        Case.followup_token.is_not(None),
        Case.status == "resolved",
        now=now,
    )
    if not ids:
        db.session.commit()
        return 0
    zone = _zone(config)
    outgoing, unsent = {}, []
    for target in _targets(ids):
        case, contact = target.case, target.contact
        reason = _unreachable(contact)
        if reason:
            _event(case.id, "followup_not_sent", f"No follow-up sent: {reason}", now)
            unsent.append(case.id)
            continue
        until = (now + ANSWER_WINDOW).astimezone(zone)
        outgoing[case.id] = (
            _followup_message(config, target),
            "followup_sent",
            f"Asked {_who(contact)} whether the problem is solved (answers until {until:%Y-%m-%d})",
        )
    release_cases(unsent, *_UNSENT_FOLLOWUP)
    db.session.commit()
    return _deliver(backend, Case.followup_sent_at, outgoing, failed="followup_not_sent",
                    forget=_UNSENT_FOLLOWUP, now=now)  # fmt: skip


def _followup_message(config, target: _Target) -> OutgoingMessage:
    contact = target.contact
    text = words(contact.language)
    base = f"{config['FEEDBACK_BASE_URL']}/f/{target.case.followup_token}"
    context = _common(config, contact, text) | {
        "subject": text["followup_subject"],
        "intro": text["followup_intro"],
        "question": text["question"],
        "choices": [(text["yes"], f"{base}?solved=yes"), (text["no"], f"{base}?solved=no")],
        "one_tap": text["one_tap"],
    }
    return _message(target.case, contact, "followup", context)


# shared -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    case: Case
    contact: Contact | None  # who answered; None when the case has no response
    person: str  # the active assignee's name, "" when there is none (a queue)
    team: str


def _targets(ids: list[int]) -> list[_Target]:
    assignee = aliased(User)
    rows = db.session.execute(
        select(Case, Contact, assignee, Team.name)
        .outerjoin(Response, Response.id == Case.response_id)
        .outerjoin(Invitation, Invitation.id == Response.invitation_id)
        .outerjoin(Contact, Contact.id == Invitation.contact_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .where(Case.id.in_(ids))
        .order_by(Case.id)
    ).all()
    # Only a real name is promised to the customer: no login e-mail, nobody who has left.
    return [
        _Target(case, contact, (person.name or "").strip() if person and person.active else "",
                team or "")
        for case, contact, person, team in rows
    ]  # fmt: skip


def _contact_of(response_id: int) -> Contact | None:
    return db.session.scalar(
        select(Contact)
        .join(Invitation, Invitation.contact_id == Contact.id)
        .join(Response, Response.invitation_id == Invitation.id)
        .where(Response.id == response_id)
    )


def _unreachable(contact: Contact | None) -> str | None:
    if contact is None:
        return "the case has no answering contact to write to"
    if contact.status == "opted_out":
        return f"{contact.email} has opted out of e-mail from us"
    if contact.status == "bounced":
        return f"e-mail to {contact.email} bounces"
    return None


def _who(contact: Contact) -> str:
    return f"{contact.name} <{contact.email}>" if contact.name else contact.email


def _event(case_id: int, kind: str, detail: str, now: datetime) -> None:
    db.session.add(CaseEvent(case_id=case_id, kind=kind, detail=detail, at=now))


def _common(config, contact: Contact, text: dict[str, str]) -> dict:
    company = config.get("FEEDBACK_COMPANY_NAME", "")
    name = (contact.name or "").strip()
    return {
        "lang": contact.language,
        "company": company,
        "greeting": text["greeting"].format(name=name) if name else text["greeting_plain"],
        "regards": text["regards"],
        "why": text["why"].format(company=company),
    }


def _message(case: Case, contact: Contact, template: str, context: dict) -> OutgoingMessage:
    env = mail_environment()
    return OutgoingMessage(
        invitation_id=case.id,  # the backends' result key: a case id here (kind="case")
        to_email=contact.email,
        to_name=contact.name,
        content=MailContent(
            subject=context["subject"],
            html=env.get_template(f"{template}.html").render(context),
            text=env.get_template(f"{template}.txt").render(context),
            language=contact.language,
        ),
        kind="case",
    )


def _deliver(backend, mark, outgoing: dict, *, failed: str, now: datetime, forget=()) -> int:
    """outgoing: case id -> (message, event kind, event detail); see deliver_case_mail."""
    messages = {case_id: [message] for case_id, (message, _, _) in outgoing.items()}
    events = {case_id: (kind, detail) for case_id, (_, kind, detail) in outgoing.items()}
    return deliver_case_mail(backend, mark, messages, events, now=now, refused_kind=failed,
                             forget=forget)  # fmt: skip


def _zone(config) -> ZoneInfo:
    try:
        return ZoneInfo(config.get("FEEDBACK_TIMEZONE") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def local_date(moment: datetime, language: str, config) -> str:
    """A moment as the customer reads a date, in FEEDBACK_TIMEZONE: '3. december 2026'."""
    return long_date(_local_day(moment, _zone(config)), language)
