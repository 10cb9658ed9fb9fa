"""Delivering outbox events to a real local receiver: signed, retried, in order, once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from feedback.dbtypes import utcnow
from feedback.delivery.backends.outbox import OutboxBackend
from feedback.extensions import db
from feedback.outbox import OutboxEvent, emit
from feedback.webhooks import dispatch, services
from feedback.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.support.receiver import Receiver, closed_port_url


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def config(app):
    return dict(app.config)


def _endpoint(url, events="*", **kwargs) -> WebhookEndpoint:
    endpoint = services.add_endpoint(url, events, **kwargs)
    db.session.commit()
    return endpoint


def _emit(n: int = 1, type="case.created", subject=None) -> list[int]:
    events = []
    for i in range(n):
        event = OutboxEvent(type=type, subject=subject or f"case:{i + 1}",
                            payload={"type": type, "timestamp": "2026-01-01T00:00:00.000000Z",
                                     "data": {"case": {"id": i + 1}, "n": i}},
                            occurred_at=utcnow())  # fmt: skip
        db.session.add(event)
        events.append(event)
    db.session.commit()
    return [event.id for event in events]


def _delivery(event_id: int) -> WebhookDelivery:
    db.session.expire_all()
    return db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.event_id == event_id))


def test_an_event_arrives_signed_and_verifies_with_the_endpoints_secret(receiver, config):
    endpoint = _endpoint(receiver.url, "case.created", description="CRM")
    emit("case.created", "case:7", {"case": {"id": 7}, "note": "Øresund – “quoted”"})
    db.session.commit()
    report = dispatch.run(config)
    assert (report.events, report.queued, report.sent, report.succeeded) == (1, 1, 1, 1)
    (request,) = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "case.created" and payload["data"]["note"] == "Øresund – “quoted”"
    assert payload["timestamp"].endswith("Z")
    event_id = db.session.scalar(select(OutboxEvent.id))
    assert request.webhook_id == f"evt_{event_id}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "FeedbackLoop-Webhooks/1"
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify(request.body, request.headers)
    delivery = _delivery(event_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 1, 204)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    (attempt,) = delivery.attempt_log
    assert attempt.status_code == 204 and attempt.duration_ms >= 0 and attempt.error == ""
    # nothing twice: the event is fanned out and delivered
    assert dispatch.run(config).sent == 0 and len(receiver.requests) == 1


def test_only_subscribed_enabled_endpoints_get_the_event(receiver, config):
    cases = _endpoint(receiver.url, "case.created,case.resolved")
    _endpoint(receiver.url, "contact.opted_out")
    off = _endpoint(receiver.url, "*")
    services.disable_endpoint(off, "test")
    db.session.commit()
    _emit(1, "case.resolved")
    dispatch.run(config)
    assert [d.endpoint_id for d in db.session.scalars(select(WebhookDelivery))] == [cases.id]


def test_during_a_rotation_both_secrets_sign_then_only_the_new(receiver, config):
    endpoint = _endpoint(receiver.url)
    old = endpoint.secret
    new = services.rotate_secret(endpoint)
    db.session.commit()
    _emit(1)
    dispatch.run(config)
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "case.created"
    # a day later the old secret no longer signs (a resend here, signed anew)
    later = utcnow() + timedelta(hours=25)
    services.resend(db.session.scalar(select(WebhookDelivery)), now=later)
    db.session.commit()
    receiver.requests.clear()
    dispatch.run(config, now=later)
    (again,) = receiver.requests
    assert again.webhook_id == request.webhook_id  # the same message id on a resend
    sent_at = datetime.fromtimestamp(int(again.headers["webhook-timestamp"]), UTC)
    assert sent_at == later.replace(microsecond=0)
    body = again.body.decode()
    assert again.headers["webhook-signature"] == Webhook(new).sign(again.webhook_id, sent_at, body)
    assert Webhook(old).sign(again.webhook_id, sent_at, body) != again.headers["webhook-signature"]


def test_failures_retry_with_backoff_then_succeed(receiver, config):
    endpoint = _endpoint(receiver.url)
    (event_id,) = _emit(1)
    receiver.status = 500
    start = utcnow()
    report = dispatch.run(config, now=start)
    assert (report.sent, report.retrying) == (1, 1)
    delivery = _delivery(event_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert timedelta(seconds=4.5) <= delivery.next_attempt_at - start <= timedelta(seconds=5.5)
    assert dispatch.run(config, now=start + timedelta(seconds=1)).sent == 0  # not due yet

    # connection refused: the 2nd retry waits about 5 minutes
    services.update_endpoint(endpoint, url=closed_port_url())
    db.session.commit()
    second = delivery.next_attempt_at
    dispatch.run(config, now=second)
    delivery = _delivery(event_id)
    assert (delivery.attempts, delivery.last_status) == (2, None)
    assert "ConnectionError" in delivery.last_error
    assert timedelta(minutes=4.5) <= delivery.next_attempt_at - second <= timedelta(minutes=5.5)

    # a receiver slower than the timeout: about 30 minutes
    services.update_endpoint(endpoint, url=receiver.url)
    db.session.commit()
    receiver.status, receiver.delay = 200, 2.5
    third = delivery.next_attempt_at
    dispatch.run({**config, "FEEDBACK_WEBHOOKS_TIMEOUT": 1}, now=third)
    delivery = _delivery(event_id)
    assert delivery.attempts == 3 and "Timeout" in delivery.last_error
    assert timedelta(minutes=27) <= delivery.next_attempt_at - third <= timedelta(minutes=33)

    receiver.delay = 0
    dispatch.run(config, now=delivery.next_attempt_at)
    delivery = _delivery(event_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 4, 200)
    codes = [a.status_code for a in delivery.attempt_log]
    assert codes == [500, None, None, 200]
    assert delivery.attempt_log[0].response_excerpt == "answer 500 <b>"
    assert db.session.get(WebhookEndpoint, endpoint.id).failing_since is None


def test_a_delivery_gives_up_after_the_schedule(receiver, config):
    _endpoint(receiver.url)
    (event_id,) = _emit(1)
    receiver.status = 503
    config = {**config, "FEEDBACK_WEBHOOKS_DISABLE_AFTER": 1000}  # not disabled meanwhile
    moment = utcnow()
    gaps = []
    for _ in range(8):
        dispatch.run(config, now=moment)
        delivery = _delivery(event_id)
        if delivery.next_attempt_at:
            gaps.append((delivery.next_attempt_at - moment).total_seconds())
            moment = delivery.next_attempt_at
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert all(0.89 * e <= g <= 1.11 * e for g, e in zip(gaps, expected, strict=True)), gaps
    assert 24 <= sum(gaps) / 3600 <= 31  # about a day
    assert dispatch.run(config, now=moment + timedelta(days=1)).sent == 0
    assert len(receiver.requests) == 8


def test_an_endpoint_failing_for_the_set_hours_is_disabled_and_its_admin_told(
    receiver, config, create_user, tmp_path
):
    import email
    import email.policy

    admin = create_user("hooks@nordlys.example.com", role="admin", name="Hook Admin")
    create_user("other-admin@nordlys.example.com", role="admin")
    endpoint = _endpoint(receiver.url, description="CRM", actor=admin)
    (event_id,) = _emit(1)
    receiver.status = 500
    backend = OutboxBackend(tmp_path / "mail", ("s@nordlys.example.com", "Feedback Loop"))
    config = {**config, "FEEDBACK_WEBHOOKS_DISABLE_AFTER": 1}
    moment = utcnow()
    for _ in range(5):  # 0, 5 s, 5 min, 35 min, 2 h 35: past the hour
        report = dispatch.run(config, now=moment, backend=backend)
        moment = _delivery(event_id).next_attempt_at
    assert report.disabled == 1
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert not endpoint.enabled and endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "Every delivery failed for 1 hours (last: HTTP 500)"
    (mail,) = (tmp_path / "mail").glob("*.eml")
    parsed = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == [admin.email]
    assert parsed["Subject"].startswith("Webhook disabled:")
    assert f"/admin/webhooks/{endpoint.id}" in parsed.get_body(("plain",)).get_content()

    # while disabled: nothing is sent, new events are not queued for it
    (later,) = _emit(1, subject="case:99")
    assert dispatch.run(config, now=moment + timedelta(days=1)).sent == 0
    assert _delivery(later) is None

    # enabled again: the pending delivery goes out at once, the failure clock restarts
    receiver.status = 204
    services.enable_endpoint(endpoint)
    db.session.commit()
    assert dispatch.run(config).succeeded == 1
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert endpoint.enabled and endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_without_its_creator_every_admin_is_told(receiver, config, create_user, tmp_path):
    import email
    import email.policy

    first = create_user("a1@nordlys.example.com", role="admin")
    second = create_user("a2@nordlys.example.com", role="admin")
    create_user("m@nordlys.example.com", role="manager")
    _endpoint(receiver.url)  # made on the command line: no creator
    _emit(1)
    receiver.status = 500
    backend = OutboxBackend(tmp_path / "mail", ("s@nordlys.example.com", "Feedback Loop"))
    config = {**config, "FEEDBACK_WEBHOOKS_DISABLE_AFTER": 0}
    assert dispatch.run(config, backend=backend).disabled == 1
    to = sorted(
        email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)["To"]
        .addresses[0]
        .addr_spec
        for mail in (tmp_path / "mail").glob("*.eml")
    )
    assert to == [first.email, second.email]


def test_a_later_event_of_the_same_case_waits_for_the_earlier_one(receiver, config):
    _endpoint(receiver.url)
    first, second = _emit(1, "case.created", "case:1") + _emit(1, "case.breached", "case:1")
    (other,) = _emit(1, "case.created", "case:2")
    receiver.statuses = [500]  # the first request fails
    config = {**config, "FEEDBACK_WEBHOOKS_THREADS": 1}  # requests arrive in claim order
    start = utcnow()
    dispatch.run(config, now=start)
    assert [r.webhook_id for r in receiver.requests] == [f"evt_{first}", f"evt_{other}"]
    assert _delivery(second).attempts == 0  # waits: case:1's earlier event is pending
    dispatch.run(config, now=start + timedelta(seconds=2))
    assert len(receiver.requests) == 2
    dispatch.run(config, now=start + timedelta(seconds=10))
    ours = {f"evt_{first}", f"evt_{second}"}
    case_1 = [r.webhook_id for r in receiver.requests if r.webhook_id in ours]
    assert case_1 == [f"evt_{first}", f"evt_{first}", f"evt_{second}"]
    assert _delivery(second).state == "succeeded"


def test_two_workers_deliver_each_event_exactly_once(app, receiver, config):
    _endpoint(receiver.url)
    _endpoint(receiver.url + "?second", "case.created")
    created = _emit(150)
    breached = _emit(100, "case.breached")
    errors = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(50):
                    report = dispatch.run(config)
                    if not report.sent and not report.events:
                        break
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    dispatch.run(config)  # whatever a worker left when the other held the fan-out
    seen = Counter((r.webhook_id, r.path) for r in receiver.requests)
    assert max(seen.values()) == 1  # never twice to one endpoint
    assert set(seen) == {(f"evt_{i}", "/hook") for i in created + breached} | {
        (f"evt_{i}", "/hook?second") for i in created
    }
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 400


def test_resend_sends_the_same_event_again(receiver, config):
    _endpoint(receiver.url)
    (event_id,) = _emit(1)
    dispatch.run(config)
    delivery = _delivery(event_id)
    with pytest.raises(services.DomainError):
        services.resend(services.get_delivery(delivery.id + 1000))
    services.resend(delivery)
    db.session.commit()
    with pytest.raises(services.DomainError, match="still pending"):
        services.resend(delivery)
    dispatch.run(config)
    assert [r.webhook_id for r in receiver.requests] == [f"evt_{event_id}"] * 2
    delivery = _delivery(event_id)
    assert (delivery.state, delivery.attempts, len(delivery.attempt_log)) == ("succeeded", 1, 2)


def test_old_events_are_forgotten_once_delivered(receiver, config):
    _endpoint(receiver.url)
    _emit(3)
    dispatch.run(config)
    later = utcnow() + timedelta(days=31)
    assert dispatch.forget_old(config, now=later) == 3
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
