"""SendGrid event webhook: verify the signature, then apply each event once.

An event is applied only the first time its `sg_event_id` arrives (a unique column), so a
webhook SendGrid retries, or delivers twice, changes nothing the second time. Effects:
- delivered: the invitation is delivered (unless already answered);
- bounce (not "blocked", which is temporary), dropped: the invitation failed and, for a
  bounce or a dropped bounced address, the contact is marked bounced;
- spamreport, unsubscribe, group_unsubscribe: the contact is opted out of all surveys;
- open, click: recorded in the invitation's history only.
"""

from __future__ import annotations

import binascii
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy import select, update

from feedback.customers.announce import announce_opt_outs
from feedback.customers.models import Contact
from feedback.dbtypes import upsert_insert, utcnow
from feedback.extensions import db
from feedback.surveys.models import Invitation, InvitationEvent

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_AGE_SECONDS = 300
KNOWN = {
    "processed", "deferred", "delivered", "bounce", "dropped", "spamreport", "unsubscribe",
    "group_unsubscribe", "group_resubscribe", "open", "click",
}  # fmt: skip
OPT_OUT = {"spamreport", "unsubscribe", "group_unsubscribe"}


class RejectedWebhook(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class EventReport:
    received: int = 0
    applied: int = 0
    repeated: int = 0
    ignored: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def verify(body: bytes, signature: str | None, timestamp: str | None, public_key: str | None,
           *, now: float | None = None) -> list[dict]:  # fmt: skip
    """The events of a correctly signed, fresh request; RejectedWebhook otherwise."""
    if not public_key:
        raise RejectedWebhook(403, "the event webhook's public key is not configured")
    if not signature or not timestamp:
        raise RejectedWebhook(403, "missing signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise RejectedWebhook(403, "bad timestamp") from None
    if abs((now or time.time()) - sent_at) > MAX_AGE_SECONDS:
        raise RejectedWebhook(403, "stale timestamp: replayed or clock skew")
    try:
        payload = body.decode("utf-8")
        verifier = EventWebhook(public_key)
        valid = verifier.verify_signature(payload, signature, timestamp)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise RejectedWebhook(403, "bad signature")
    try:
        events = json.loads(payload)
    except ValueError:
        raise RejectedWebhook(400, "the body is not JSON") from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise RejectedWebhook(400, "the body must be a JSON array of event objects")
    return events


def apply_events(events: list[dict]) -> EventReport:
    report = EventReport(received=len(events))
    rows = []
    for event in events:
        row = _event_row(event)
        if row is None:
            report.ignored += 1
        else:
            rows.append(row)
    if not rows:
        return report
    ids = {r["invitation_id"] for r in rows}
    known = set(db.session.scalars(select(Invitation.id).where(Invitation.id.in_(ids))))
    seen = set(
        db.session.scalars(
            select(InvitationEvent.external_id).where(
                InvitationEvent.external_id.in_([r["external_id"] for r in rows])
            )
        )
    )
    fresh, in_batch = [], set()
    for row in rows:
        if row["invitation_id"] not in known:
            report.ignored += 1
        elif row["external_id"] in seen or row["external_id"] in in_batch:
            report.repeated += 1
        else:
            in_batch.add(row["external_id"])
            fresh.append(row)
    if fresh:
        db.session.execute(_insert_ignoring_repeats(), fresh)
        for row in fresh:
            _apply(row)
            report.kinds[row["kind"]] += 1
        report.applied = len(fresh)
    db.session.flush()
    return report


def _event_row(event: dict) -> dict | None:
    kind, external_id = event.get("event"), event.get("sg_event_id")
    try:
        invitation_id = int(event.get("invitation_id"))
        at = datetime.fromtimestamp(int(event.get("timestamp")), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    if kind not in KNOWN or not isinstance(external_id, str) or not external_id:
        return None
    if kind == "bounce" and event.get("type") == "blocked":
        kind = "blocked"  # a temporary refusal, not a bad address
    detail = str(event.get("reason") or event.get("url") or event.get("response") or "")
    return {"invitation_id": invitation_id, "kind": kind, "at": at,
            "detail": detail[:500], "external_id": external_id[:100]}  # fmt: skip


def _insert_ignoring_repeats():
    return upsert_insert(InvitationEvent.__table__).on_conflict_do_nothing(
        index_elements=["external_id"]
    )


def _apply(row: dict) -> None:
    kind, invitation_id, at = row["kind"], row["invitation_id"], row["at"]
    invitation = Invitation.__table__
    if kind == "delivered":
        db.session.execute(
            update(invitation)
            .where(invitation.c.id == invitation_id, invitation.c.state.in_(("sent", "sending")))
            .values(state="delivered", delivered_at=at)
        )
    elif kind in ("bounce", "dropped"):
        db.session.execute(
            update(invitation)
            .where(invitation.c.id == invitation_id, invitation.c.state != "answered")
            .values(state="bounced" if kind == "bounce" else "failed")
        )
        if kind == "bounce" or "bounce" in row["detail"].lower():
            _set_contact_status(invitation_id, "bounced", keep=("opted_out",))
        elif "unsubscribe" in row["detail"].lower() or "spam" in row["detail"].lower():
            _set_contact_status(invitation_id, "opted_out", at=at)
    elif kind in OPT_OUT:
        _set_contact_status(invitation_id, "opted_out", at=at)


def _set_contact_status(invitation_id: int, status: str, keep: tuple[str, ...] = (),
                        *, at: datetime | None = None) -> None:  # fmt: skip
    contact_id = select(Invitation.contact_id).where(Invitation.id == invitation_id)
    changed = db.session.scalars(
        update(Contact)
        .where(Contact.id == contact_id.scalar_subquery(), Contact.status.not_in((status, *keep)))
        .values(status=status)
        .returning(Contact.id)
        .execution_options(synchronize_session=False)
    ).all()
    if status == "opted_out" and changed:
        announce_opt_outs(changed, source="email_provider", now=at or utcnow())
