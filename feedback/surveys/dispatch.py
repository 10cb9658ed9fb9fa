"""Wave and invitation state transitions for sending, each guarded in SQL.

Sending is at-most-once per invitation: a job run first *claims* a batch (an UPDATE that
only touches rows still pending and unclaimed, with SKIP LOCKED on PostgreSQL), commits the
claim, hands the batch to the mail backend, then records the outcome for its own claim
only. Two workers never claim the same row, and a retried job finds nothing left to claim.
A run that dies between handing a batch over and recording it leaves the claim in place:
those invitations are reported as interrupted and never resent automatically, because the
backend may already have delivered them (`requeue_interrupted` is a person's decision).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, literal, select, update

from feedback.customers.models import Contact, Customer
from feedback.dbtypes import UTCDateTime
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.risk.nonresponse import record_outcomes
from feedback.surveys.audience import create_invitations
from feedback.surveys.models import Invitation, InvitationEvent, Wave
from feedback.surveys.services import template_version_for
from feedback.surveys.templates import SurveyTemplate


@dataclass(frozen=True)
class Recipient:
    """What rendering one e-mail needs."""

    invitation_id: int
    token: str
    language: str
    email: str
    contact_name: str
    customer_name: str
    template_version_id: int
    reminder: bool


def start_wave(
    wave: Wave, *, templates: dict[str, SurveyTemplate], now: datetime, quiet_days: int
) -> int:
    """Pin the template version, create the invitations and mark the wave sending."""
    if wave.status not in ("draft", "scheduled"):
        raise DomainError(f"wave {wave.id} is {wave.status}; only a draft can be sent")
    template = templates.get(wave.survey.template_key)
    if template is None:
        raise DomainError(f"the template {wave.survey.template_key!r} is missing")
    moved = db.session.execute(
        update(Wave)
        .where(Wave.id == wave.id, Wave.status.in_(("draft", "scheduled")))
        .values(status="sending")
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:  # another process started it a moment ago
        raise DomainError(f"wave {wave.id} is already being sent")
    db.session.refresh(wave)
    planned = wave.send_at or wave.created_at
    if now > planned:  # started late: keep the promised answering period
        wave.closes_at = wave.closes_at + (now - planned)
    wave.template_version_id = template_version_for(template).id
    wave.sent_at = now
    created = create_invitations(wave, now=now, quiet_days=quiet_days)
    db.session.flush()
    return created


def schedule_wave(wave: Wave, *, now: datetime) -> None:
    """A draft whose send time lies ahead waits for the scheduler."""
    if wave.status != "draft":
        raise DomainError(f"wave {wave.id} is {wave.status}; only a draft can be scheduled")
    if wave.send_at is None or wave.send_at <= now:
        raise DomainError("the send time has passed; send the wave now instead")
    wave.status = "scheduled"
    db.session.flush()


def send_or_schedule(
    wave: Wave, *, templates: dict[str, SurveyTemplate], now: datetime, quiet_days: int
) -> int | None:
    """What "Send" does: schedule a draft whose send time lies ahead, else start it now.
    Returns the invitations created (None: scheduled)."""
    if wave.send_at is not None and wave.send_at > now:
        schedule_wave(wave, now=now)
        return None
    return start_wave(wave, templates=templates, now=now, quiet_days=quiet_days)


def due_scheduled_waves(now: datetime) -> list[Wave]:
    return list(
        db.session.scalars(
            select(Wave).where(Wave.status == "scheduled", Wave.send_at <= now).order_by(Wave.id)
        )
    )


def _recipients(claim: str, reminder: bool) -> list[Recipient]:
    rows = db.session.execute(
        select(
            Invitation.id,
            Invitation.token,
            Invitation.language,
            Contact.email,
            Contact.name,
            Customer.name,
            Wave.template_version_id,
        )
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Customer, Customer.id == Invitation.customer_id)
        .join(Wave, Wave.id == Invitation.wave_id)
        .where(Invitation.claim == claim)
        .order_by(Invitation.id)
    )
    return [Recipient(*row, reminder=reminder) for row in rows]


def _claim(candidates, guard, claim: str, now: datetime, values: dict) -> None:
    # A CTE, not an IN (subquery): PostgreSQL may re-run a LIMIT ... SKIP LOCKED subquery
    # per row and so claim more than `limit`; a CTE with FOR UPDATE runs exactly once.
    picked = candidates.with_for_update(skip_locked=True, of=Invitation).cte("picked")
    db.session.execute(
        update(Invitation)
        .where(Invitation.id.in_(select(picked.c.id)), guard)
        .values(claim=claim, claimed_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def claim_pending(*, now: datetime, limit: int, wave_id: int | None = None):
    """Claim up to `limit` pending invitations of waves being sent: (claim, recipients).

    Call fail_inactive_contacts once before a run of claims."""
    guard = and_(Invitation.state == "pending", Invitation.claim.is_(None))
    candidates = (
        select(Invitation.id)
        .join(Wave, Wave.id == Invitation.wave_id)
        .where(guard, Wave.status.in_(("sending", "open")), Wave.closes_at > now)
        # No ORDER BY: sorting every remaining pending row made each batch of a big wave
        # slower than the last; the (wave, state) index hands out pending rows directly.
        .limit(limit)
    )
    if wave_id is not None:
        candidates = candidates.where(Invitation.wave_id == wave_id)
    claim = str(uuid.uuid4())
    _claim(candidates, guard, claim, now, {"state": "sending"})
    return claim, _recipients(claim, reminder=False)


def claim_due_reminders(*, now: datetime, limit: int, wave_id: int | None = None):
    """Claim invitations whose next reminder is due and that are still unanswered."""
    claim = str(uuid.uuid4())
    waves = db.session.scalars(
        select(Wave).where(Wave.status == "open", Wave.closes_at > now, Wave.max_reminders > 0)
    ).all()
    for wave in waves:
        if wave_id is not None and wave.id != wave_id:
            continue
        for number, days in enumerate(wave.reminder_offsets):
            guard = and_(
                Invitation.claim.is_(None),
                Invitation.reminders_sent == number,
                Invitation.state.in_(("sent", "delivered")),
            )
            candidates = (
                select(Invitation.id)
                .join(Contact, Contact.id == Invitation.contact_id)
                .where(
                    guard,
                    Invitation.wave_id == wave.id,
                    Contact.status == "active",
                    Invitation.sent_at <= now - timedelta(days=days),
                )
                .limit(limit)
            )
            _claim(candidates, guard, claim, now, {})
    return claim, _recipients(claim, reminder=True)


def fail_inactive_contacts(now: datetime) -> None:
    """A contact who opted out or bounced after the wave was built is not mailed."""
    inactive = select(Contact.id).where(Contact.status != "active")
    stale = select(Invitation.id).where(
        Invitation.state == "pending",
        Invitation.claim.is_(None),
        Invitation.contact_id.in_(inactive),
    )
    ids = list(db.session.scalars(stale))
    if ids:
        _events(ids, "skipped", now, "contact opted out or bounced before sending")
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_(ids), Invitation.state == "pending")
            .values(state="failed")
            .execution_options(synchronize_session=False)
        )


def record_results(claim: str, results, *, now: datetime, reminder: bool) -> tuple[int, int]:
    """Store what the backend did with a claimed batch: (sent, failed)."""
    ok = [r.invitation_id for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    mine = Invitation.claim == claim
    if ok:
        values = (
            {"reminders_sent": Invitation.reminders_sent + 1, "last_reminded_at": now}
            if reminder
            else {"state": "sent", "sent_at": now}
        )
        kind = "reminded" if reminder else "sent"
        # The usual case, every mail taken: set-based by claim, no id lists shipped.
        chosen = mine if not failed else and_(mine, Invitation.id.in_(ok))
        db.session.execute(
            insert(InvitationEvent).from_select(
                ["invitation_id", "kind", "at", "detail"],
                select(Invitation.id, literal(kind), literal(now, UTCDateTime), literal("")).where(
                    chosen
                ),
            )
        )
        db.session.execute(
            update(Invitation)
            .where(chosen)
            .values(claim=None, claimed_at=None, **values)
            .execution_options(synchronize_session=False)
        )
    for result in failed:
        if reminder:  # a refused reminder is not tried again; a temporary failure is
            values = {"reminders_sent": Invitation.reminders_sent + 1} if result.permanent else {}
        else:
            values = {"state": "failed" if result.permanent else "pending"}
        db.session.execute(
            update(Invitation)
            .where(mine, Invitation.id == result.invitation_id)
            .values(claim=None, claimed_at=None, **values)
            .execution_options(synchronize_session=False)
        )
    for result in failed:
        _events([result.invitation_id], "failed", now, result.detail[:500])
    db.session.flush()
    return len(ok), len(failed)


def release_claim(claim: str, *, reminder: bool) -> None:
    """The backend did not take the batch (temporary failure): make it claimable again."""
    values = {} if reminder else {"state": "pending"}
    db.session.execute(
        update(Invitation)
        .where(Invitation.claim == claim)
        .values(claim=None, claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )


def _events(ids: list[int], kind: str, now: datetime, detail: str) -> None:
    rows = [{"invitation_id": i, "kind": kind, "at": now, "detail": detail} for i in ids]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(InvitationEvent), rows[start : start + 5000])


def open_finished_waves(now: datetime) -> int:
    """A sending wave with nothing left pending is open for answers."""
    waiting = select(Invitation.id).where(
        Invitation.wave_id == Wave.id, Invitation.state.in_(("pending", "sending"))
    )
    return db.session.execute(
        update(Wave)
        .where(Wave.status == "sending", ~waiting.exists())
        .values(status="open")
        .execution_options(synchronize_session=False)
    ).rowcount


def close_due_waves(now: datetime) -> int:
    closed = db.session.execute(
        update(Wave)
        .where(Wave.status.in_(("sending", "open")), Wave.closes_at <= now)
        .values(status="closed", closed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed:
        record_outcomes(now=now)  # who answered, who stayed silent: fixed at the close
    return closed


def close_wave(wave: Wave, *, now: datetime) -> None:
    if wave.status == "closed":
        raise DomainError(f"wave {wave.id} is already closed")
    if wave.status in ("draft", "scheduled"):
        raise DomainError(f"wave {wave.id} was never sent; there is nothing to close")
    wave.status, wave.closed_at, wave.closes_at = "closed", now, min(wave.closes_at, now)
    db.session.flush()
    record_outcomes([wave.id], now=now)


def _interrupted(wave_id: int, older_than: timedelta, now: datetime):
    return and_(
        Invitation.wave_id == wave_id,
        Invitation.claim.is_not(None),
        Invitation.claimed_at < now - older_than,
    )


def count_interrupted(wave_id: int, *, now: datetime, older_than=timedelta(minutes=15)) -> int:
    """Invitations claimed by a run that never recorded its outcome (it crashed)."""
    return db.session.scalar(select(func.count()).where(_interrupted(wave_id, older_than, now)))


def requeue_interrupted(wave_id: int, *, now: datetime, older_than=timedelta(minutes=15)) -> int:
    """A person decided the interrupted batch did not go out: make it sendable again."""
    first_sends = db.session.execute(
        update(Invitation)
        .where(_interrupted(wave_id, older_than, now), Invitation.state == "sending")
        .values(state="pending", claim=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    reminders = db.session.execute(
        update(Invitation)
        .where(_interrupted(wave_id, older_than, now))
        .values(claim=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return first_sends + reminders
