"""The webhook admin pages and `feedback webhooks ...`: admins only, CSRF, escaping, bad input
refused with nothing written."""

from __future__ import annotations

import re

import pytest
from conftest import csrf_token
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.outbox import emit
from feedback.webhooks import dispatch, services
from feedback.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.support.receiver import Receiver

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{40,}")


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def _cli(runner, *args):
    return runner.invoke(args=["webhooks", *args])


def _add(url="https://crm.example.com/hooks", events="*", description=""):
    endpoint = services.add_endpoint(url, events, description=description)
    db.session.commit()
    return endpoint


# --- CLI --------------------------------------------------------------------------------------


def test_cli_adds_lists_rotates_disables_and_removes(runner):
    result = _cli(runner, "add", "https://crm.example.com/hooks", "--events",
                  "case.created, response.created", "--description", "CRM")  # fmt: skip
    assert result.exit_code == 0, result.output
    secret = SECRET.search(result.output).group(0)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.secret == secret and endpoint.events == ["response.created", "case.created"]
    listed = _cli(runner, "list").output
    assert "https://crm.example.com/hooks" in listed and "enabled" in listed
    assert secret not in listed
    rotated = _cli(runner, "rotate-secret", str(endpoint.id))
    assert rotated.exit_code == 0
    db.session.expire_all()
    assert endpoint.previous_secret == secret and endpoint.secret in rotated.output
    assert _cli(runner, "disable", str(endpoint.id)).exit_code == 0
    assert "disabled" in _cli(runner, "list").output
    assert _cli(runner, "enable", str(endpoint.id)).exit_code == 0
    assert _cli(runner, "deliveries", str(endpoint.id)).output.strip() == "No deliveries."
    assert _cli(runner, "remove", str(endpoint.id)).exit_code == 0
    assert _count() == 0
    assert "No webhook endpoints yet" in _cli(runner, "list").output


def test_cli_delivers_shows_the_log_and_resends(runner):
    receiver = Receiver(status=500).start()
    try:
        endpoint = _add(receiver.url, "case.created")
        emit("case.created", "case:1", {"case": {"id": 1}})
        db.session.commit()
        result = _cli(runner, "deliver")
        assert result.exit_code == 0
        assert "1 events fanned out into 1 deliveries; 1 sent: 0 succeeded, 1 to retry" in (
            result.output)  # fmt: skip
        log = _cli(runner, "deliveries", str(endpoint.id)).output
        assert "case.created" in log and "pending" in log and "HTTP 500" in log
        delivery = db.session.scalar(select(WebhookDelivery))
        refused = _cli(runner, "resend", str(delivery.id))
        assert refused.exit_code == 1 and "still pending" in refused.output
        delivery.state, delivery.next_attempt_at = "failed", None
        db.session.commit()
        assert (
            "No deliveries." not in _cli(runner, "deliveries", str(endpoint.id), "--failed").output
        )
        assert _cli(runner, "resend", str(delivery.id)).exit_code == 0
        receiver.status = 204
        assert "1 succeeded" in _cli(runner, "deliver").output
        assert len(receiver.requests) == 2
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "ftp://crm.example.com", "--events", "*"], "must start with https://"),
        (["add", "crm.example.com/hooks", "--events", "*"], "must start with https://"),
        (["add", "http://crm.example.com/hooks", "--events", "*"], "use https://"),
        (["add", "https://crm.example.com/hooks", "--events", "case.deleted"],
         "unknown event 'case.deleted'"),
        (["add", "https://crm.example.com/hooks", "--events", " , "], "at least one event"),
        (["add", "https://crm.example.com:x/hooks", "--events", "*"], "not a valid URL"),
        (["add", "https://crm.example.com/hooks", "--events", "*", "--description", "x" * 201],
         "longer than 200"),
        (["remove", "999"], "no webhook endpoint #999"),
        (["enable", "abc"], "no webhook endpoint 'abc'"),
        (["rotate-secret", "999"], "no webhook endpoint #999"),
        (["deliveries", "999"], "no webhook endpoint #999"),
        (["resend", "999"], "no webhook delivery #999"),
    ],
)  # fmt: skip
def test_cli_refuses_bad_input_in_one_line(runner, args, message):
    _add()
    before = _count()
    result = _cli(runner, *args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and message in result.output, result.output
    assert "Traceback" not in result.output
    assert _count() == before


def test_plain_http_is_allowed_to_localhost_or_when_configured(make_app):
    assert services.check_url("http://localhost:8080/x", allow_http=False)
    assert services.check_url("http://127.0.0.1/x", allow_http=False)
    assert services.check_url("http://crm.internal/x", allow_http=True)
    relaxed = make_app(FEEDBACK_WEBHOOKS_ALLOW_HTTP=True)
    with relaxed.app_context():
        result = relaxed.test_cli_runner().invoke(
            args=["webhooks", "add", "http://crm.internal/x", "--events", "*"])  # fmt: skip
        db.session.remove()
    assert result.exit_code == 0, result.output


# --- admin pages ------------------------------------------------------------------------------


def _post(client, path, data=None, token_from="/admin/webhooks"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})


def test_admin_adds_an_endpoint_and_sees_its_secret(client, login_as):
    admin = login_as("admin")
    response = _post(client, "/admin/webhooks", {
        "url": "https://chat.example.com/hook", "description": "#cs-alerts <b>now</b>",
        "events": ["case.created", "case.breached"]})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert (endpoint.created_by_id, endpoint.events) == (
        admin.id,
        ["case.created", "case.breached"],
    )
    assert endpoint.secret in page
    assert "#cs-alerts &lt;b&gt;now&lt;/b&gt;" in page and "<b>now</b>" not in page

    listed = client.get("/admin/webhooks").get_data(as_text=True)
    assert "https://chat.example.com/hook" in listed and endpoint.secret not in listed
    assert 'href="/admin/webhooks" class="active"' in listed
    detail_path = f"/admin/webhooks/{endpoint.id}"
    assert endpoint.secret not in client.get(detail_path).get_data(as_text=True)
    shown = _post(client, f"{detail_path}/secret", token_from=detail_path)
    assert endpoint.secret in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "http://crm.example.com/x", "events": ["case.created"]}, "use https://"),
        ({"url": "https://crm.example.com/x"}, "choose at least one event"),
        ({"url": "", "events": ["case.created"]}, "This field is required"),
        ({"url": "https://crm.example.com/x", "events": ["case.deleted"]}, "not a valid choice"),
    ],
)
def test_bad_input_on_the_page_adds_nothing(client, login_as, data, message):
    login_as("admin")
    response = _post(client, "/admin/webhooks", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert not SECRET.search(page) and _count() == 0


def test_rotate_disable_enable_edit_events_and_remove(client, login_as):
    login_as("admin")
    endpoint = _add(description="CRM")
    path = f"/admin/webhooks/{endpoint.id}"
    old = endpoint.secret
    rotated = _post(client, f"{path}/rotate", token_from=path)
    db.session.expire_all()
    assert endpoint.previous_secret == old and endpoint.secret in rotated.get_data(as_text=True)
    assert _post(client, f"{path}/disable", token_from=path).status_code == 303
    db.session.expire_all()
    assert not endpoint.enabled and endpoint.disabled_reason.startswith("Disabled by")
    assert _post(client, f"{path}/enable", token_from=path).status_code == 303
    db.session.expire_all()
    assert endpoint.enabled
    saved = _post(client, f"{path}/events", {"events": ["contact.opted_out"]}, token_from=path)
    assert saved.status_code == 303
    db.session.expire_all()
    assert endpoint.events == ["contact.opted_out"]
    assert _post(client, f"{path}/events", {}, token_from=path).status_code == 400
    assert _post(client, f"{path}/remove", token_from=path).status_code == 303
    assert _count() == 0


def test_the_delivery_log_shows_each_delivery_and_resends_one(client, login_as):
    login_as("admin")
    receiver = Receiver(status=410).start()
    try:
        endpoint = _add(receiver.url)
        emit("case.created", "case:<script>", {"case": {"id": 1}})
        db.session.commit()
        dispatch.run(client.application.config)
        delivery = db.session.scalar(select(WebhookDelivery))
        delivery.state, delivery.next_attempt_at = "failed", None
        db.session.commit()
        path = f"/admin/webhooks/{endpoint.id}"
        page = client.get(path).get_data(as_text=True)
        assert "case.created" in page and "410" in page and "failed" in page
        assert "case:&lt;script&gt;" in page and "<script>" not in page
        assert client.get(f"{path}?failed=1").status_code == 200
        assert client.post(f"/admin/webhooks/deliveries/{delivery.id}/resend").status_code == 400
        resent = _post(client, f"/admin/webhooks/deliveries/{delivery.id}/resend", token_from=path)
        assert resent.status_code == 303 and resent.headers["Location"].endswith(path)
        db.session.expire_all()
        assert delivery.state == "pending" and delivery.attempts == 0
        assert client.get("/admin/webhooks/999").status_code == 404
    finally:
        receiver.stop()


def test_posts_without_csrf_are_rejected(client, login_as):
    login_as("admin")
    endpoint = _add()
    assert client.post("/admin/webhooks", data={"url": "https://x.example.com",
                                                 "events": "*"}).status_code == 400  # fmt: skip
    for action in ("rotate", "disable", "remove", "secret"):
        assert client.post(f"/admin/webhooks/{endpoint.id}/{action}").status_code == 400
    db.session.expire_all()
    assert _count() == 1 and endpoint.enabled and endpoint.previous_secret is None


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_other_roles_are_refused(client, login_as, role):
    login_as(role)
    endpoint = _add()
    for path in ("/admin/webhooks", f"/admin/webhooks/{endpoint.id}"):
        assert client.get(path).status_code == 403, path
    home = client.get("/home").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', home).group(1)
    for path in (f"/admin/webhooks/{endpoint.id}/secret", f"/admin/webhooks/{endpoint.id}/remove"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403
    assert 'href="/admin/webhooks"' not in home and _count() == 1


def test_strangers_are_sent_to_login(client):
    endpoint = _add()
    for path in ("/admin/webhooks", f"/admin/webhooks/{endpoint.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    assert client.post(f"/admin/webhooks/{endpoint.id}/secret").status_code in (302, 400)
