"""Follow-up contacts: logging one (call, meeting, e-mail, note) and a customer's contact
history, where a person's case actions count too (status.py says what counts as a contact
and who may log one). Plain functions: they flush, never commit, and raise DomainError for
what they refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select, union_all

from feedback.auth.models import User
from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import Customer
from feedback.dbtypes import utcnow
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.followups.programme import Programme
from feedback.followups.status import (
    PERSON_CASE_EVENTS,
    followup_status,
    local_today,
    may_follow_up,
)
from feedback.risk.models import CONTACT_KINDS, ContactLog

__all__ = ["NotAllowed", "contact_history", "contact_moment", "followup_status", "log_contact"]

MAX_NOTE = 2000
OLDEST = timedelta(days=3653)  # a contact date further back is a typo
KIND_LABELS = {"call": "Call", "meeting": "Meeting", "email": "E-mail", "note": "Note"}


class NotAllowed(DomainError):
    """The actor may not follow up this customer."""


def contact_moment(day: date, *, tz: tzinfo, now: datetime | None = None) -> datetime:
    """When a contact given only by its day happened: now if it is today, else that day's
    noon (company time), which keeps it on the same day in every zone nearby."""
    now = now or utcnow()
    if day == local_today(tz, now):
        return now
    return datetime.combine(day, time(12), tz).astimezone(UTC)


# --- the contact log ---------------------------------------------------------------------


def log_contact(customer: Customer, actor: User, kind: str, at: datetime, note: str = "", *,
                programme: Programme, tz: tzinfo = UTC,
                now: datetime | None = None) -> ContactLog:  # fmt: skip
    """Record a contact `actor` had with the customer; refuses what cannot be true."""
    now = now or utcnow()
    status = followup_status([customer.id], local_today(tz, now), programme=programme, tz=tz)
    if not actor.active or not may_follow_up(actor, status[customer.id]):
        raise NotAllowed(
            f"{actor.display_name} may not log contacts for {customer.name}: only its owner, "
            "the owner's team, the team responsible for it, or a manager may"
        )
    if kind not in CONTACT_KINDS:
        raise DomainError(f"kind must be one of {', '.join(CONTACT_KINDS)} (got {kind[:20]!r})")
    if at.tzinfo is None:
        raise DomainError("the contact time needs a time zone")
    if at > now + timedelta(minutes=5):  # a little clock skew is not the future
        raise DomainError(
            f"the contact date {at.astimezone(tz):%Y-%m-%d} is in the future; log contacts "
            "that have happened"
        )
    if at < now - OLDEST:
        raise DomainError(f"the contact date {at.astimezone(tz):%Y-%m-%d} is more than ten "
                          "years ago")  # fmt: skip
    text = (note or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE:
        raise DomainError(f"the note is {len(text):,} characters; at most {MAX_NOTE:,} fit")
    if "\x00" in text:
        raise DomainError("the note contains characters that could not be read")
    if kind == "note" and not text:
        raise DomainError("a note needs some text")
    entry = ContactLog(customer_id=customer.id, user_id=actor.id, kind=kind, at=min(at, now),
                       note=text)  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class ContactEntry:
    """One line of the customer's contact history: a logged contact or a case action."""

    at: datetime
    kind: str  # call | meeting | email | note | case
    who: str | None
    note: str
    case_id: int | None = None
    case_event: str | None = None  # comment | status | resolved

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, f"Case #{self.case_id}")


def contact_history(customer_id: int, *, limit: int = 20) -> tuple[list[ContactEntry], int]:
    """The latest contacts, logged and case actions merged, newest first; and how many
    contacts there are in all."""
    person = func.coalesce(func.nullif(User.name, ""), User.email)
    logs = db.session.execute(
        select(ContactLog.at, ContactLog.kind, person, ContactLog.note)
        .outerjoin(User, User.id == ContactLog.user_id)
        .where(ContactLog.customer_id == customer_id)
        .order_by(ContactLog.at.desc(), ContactLog.id.desc())
        .limit(limit)
    ).all()
    actions = db.session.execute(
        select(CaseEvent.at, person, CaseEvent.detail, Case.id, CaseEvent.kind)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(User, User.id == CaseEvent.actor_id)
        .where(Case.customer_id == customer_id, CaseEvent.kind.in_(PERSON_CASE_EVENTS))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(limit)
    ).all()
    total = db.session.scalar(
        select(func.count()).select_from(
            union_all(
                select(ContactLog.id).where(ContactLog.customer_id == customer_id),
                select(CaseEvent.id)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(Case.customer_id == customer_id, CaseEvent.actor_id.is_not(None),
                       CaseEvent.kind.in_(PERSON_CASE_EVENTS)),
            ).subquery()
        )
    )  # fmt: skip
    entries = [ContactEntry(at, kind, who, note or "") for at, kind, who, note in logs]
    entries += [ContactEntry(at, "case", who, detail or "", case_id, event)
                for at, who, detail, case_id, event in actions]  # fmt: skip
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit], int(total or 0)
