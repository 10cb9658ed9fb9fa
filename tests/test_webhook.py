"""SendGrid's signed event webhook, signed here with the tests' own ECDSA key pair."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.surveys import dispatch
from feedback.surveys.models import Invitation, InvitationEvent
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates

PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(
    PRIVATE_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


def _signed(body: bytes, timestamp: int | None = None, key=PRIVATE_KEY) -> dict:
    stamp = str(timestamp or int(time.time()))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        "Content-Type": "application/json",
    }


@pytest.fixture
def hook(make_app):
    app = make_app(FEEDBACK_SENDGRID_WEBHOOK_KEY=PUBLIC_KEY)
    client = app.test_client()

    def post(events, headers=None, body=None):
        data = body if body is not None else json.dumps(events).encode()
        return client.post("/webhooks/sendgrid", data=data, headers=headers or _signed(data))

    return post


@pytest.fixture
def invitations(create_customer):
    templates = load_templates()
    for n in range(3):
        customer = create_customer()
        db.session.add(Contact(customer_id=customer.id, email=f"c{n}@kunde.test", name=f"K{n}"))
    survey = create_survey("Hook", "nps", templates=templates, actor=None)
    wave = create_wave(survey, audience={}, actor=None)
    db.session.commit()
    dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=90)
    db.session.execute(Invitation.__table__.update().values(state="sent", sent_at=utcnow()))
    db.session.commit()
    return list(db.session.scalars(select(Invitation.id).order_by(Invitation.id)))


def _event(invitation_id, kind, n, **extra):
    return {"email": "x@kunde.test", "timestamp": int(time.time()), "event": kind,
            "sg_event_id": f"ev-{n}", "invitation_id": str(invitation_id), **extra}  # fmt: skip


def _state(invitation_id):
    db.session.expire_all()
    invitation = db.session.get(Invitation, invitation_id)
    return invitation.state, invitation.contact.status


def test_events_move_invitations_and_contacts(hook, invitations):
    first, second, third = invitations
    events = [
        _event(first, "delivered", 1),
        _event(first, "open", 2),
        _event(second, "bounce", 3, type="bounce", reason="550 5.1.1 mailbox does not exist"),
        _event(third, "delivered", 4),
        _event(third, "spamreport", 5),
        {"event": "delivered", "sg_event_id": "other-mail", "timestamp": 1},  # not ours
    ]
    answer = hook(events)
    assert answer.status_code == 200
    assert answer.get_json() == {"received": 6, "applied": 5, "repeated": 0, "ignored": 1}
    assert _state(first) == ("delivered", "active")
    assert _state(second) == ("bounced", "bounced")
    assert _state(third) == ("delivered", "opted_out")
    kinds = db.session.scalars(
        select(InvitationEvent.kind).where(InvitationEvent.invitation_id == first)
    ).all()
    assert "delivered" in kinds and "open" in kinds


def test_a_repeated_event_changes_nothing(hook, invitations):
    events = [_event(invitations[0], "unsubscribe", 9)]
    assert hook(events).get_json()["applied"] == 1
    again = hook(events + events)
    assert again.get_json() == {"received": 2, "applied": 0, "repeated": 2, "ignored": 0}
    count = db.session.scalar(
        select(func.count())
        .select_from(InvitationEvent)
        .where(InvitationEvent.external_id == "ev-9")
    )
    assert count == 1


def test_blocked_is_temporary_and_leaves_the_contact_alone(hook, invitations):
    hook([_event(invitations[0], "bounce", 11, type="blocked", reason="IP reputation")])
    assert _state(invitations[0]) == ("sent", "active")


@pytest.mark.parametrize(
    "tamper",
    ["other key", "changed body", "stale", "future", "no headers", "garbage signature"],
)
def test_bad_signatures_are_403_and_change_nothing(hook, invitations, tamper):
    events = [_event(invitations[0], "unsubscribe", 20)]
    body = json.dumps(events).encode()
    headers = _signed(body)
    if tamper == "other key":
        headers = _signed(body, key=ec.generate_private_key(ec.SECP256R1()))
    elif tamper == "changed body":
        body = body.replace(b"unsubscribe", b"delivered")
    elif tamper == "stale":
        headers = _signed(body, timestamp=int(time.time()) - 3600)
    elif tamper == "future":
        headers = _signed(body, timestamp=int(time.time()) + 3600)
    elif tamper == "no headers":
        headers = {"Content-Type": "application/json"}
    else:
        headers["X-Twilio-Email-Event-Webhook-Signature"] = "not base64!"
    answer = hook(None, headers=headers, body=body)
    assert answer.status_code == 403 and answer.get_json()["error"]
    assert _state(invitations[0]) == ("sent", "active")


def test_signed_but_malformed_bodies_are_400(hook):
    for body in (b"{not json", b'{"event": "delivered"}', b"[1, 2]"):
        answer = hook(None, body=body)
        assert answer.status_code == 400, body


def test_without_a_configured_key_every_call_is_refused(client):
    body = b"[]"
    answer = client.post("/webhooks/sendgrid", data=body, headers=_signed(body))
    assert answer.status_code == 403
    assert "not configured" in answer.get_json()["error"]
