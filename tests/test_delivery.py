"""Invitation e-mails and the three delivery backends: outbox files, a real SMTP server
(aiosmtpd) and the real sendgrid client against a local schema-validating server."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from support.sendgrid_server import SendGridServer

from feedback.customers.models import Contact
from feedback.delivery.backends.outbox import OutboxBackend
from feedback.delivery.backends.sendgrid import SendGridBackend
from feedback.delivery.backends.smtp import SmtpBackend
from feedback.delivery.message import DeliveryError
from feedback.delivery.render import render_invitation
from feedback.extensions import db
from feedback.jobs.invitations import send_due_invitations, send_due_reminders
from feedback.surveys import dispatch
from feedback.surveys.models import Invitation
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates

SENDER = ("no-reply@nordlys.test", "Nordlys Supply")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def templates():
    return load_templates()


def _message(templates, key="nps", language="da", name="Søren <Ø>", invitation_id=7, **kw):
    return render_invitation(
        templates[key],
        language=language,
        token=kw.get("token", "TOKEN-abc_123"),
        email=kw.get("email", "soren@kunde.dk"),
        contact_name=name,
        customer_name=kw.get("customer", "Ærø & Co ApS"),
        company="Nordlys Supply",
        base_url="https://survey.example",
        reminder=kw.get("reminder", False),
        invitation_id=invitation_id,
    )


# rendering ------------------------------------------------------------------------------


def test_invitation_speaks_the_contacts_language_with_eleven_score_links(templates):
    message = _message(templates)
    assert message.subject == "Nordlys Supply vil gerne høre din mening"
    for score in range(11):
        assert f'href="https://survey.example/s/TOKEN-abc_123?score={score}"' in message.html
        assert f"https://survey.example/s/TOKEN-abc_123?score={score}" in message.text
    assert "?score=11" not in message.html
    assert "Hvor sandsynligt er det, at du vil anbefale Nordlys Supply" in message.html
    assert "Afmeld undersøgelser" in message.html
    assert message.headers == {
        "List-Unsubscribe": "<https://survey.example/u/TOKEN-abc_123>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_names_are_escaped_in_html_and_plain_in_text(templates):
    message = _message(templates, name="<script>x</script>", customer="A & B")
    assert "<script>x</script>" not in message.html
    assert "&lt;script&gt;x&lt;/script&gt;" in message.html and "A &amp; B" in message.html
    assert "Hej <script>x</script>," in message.text and "A & B" in message.text


@pytest.mark.parametrize(
    ("language", "greeting", "subject"),
    [
        ("en", "Hi,", "Reminder: Nordlys Supply would like your opinion"),
        ("sv", "Hej,", "Påminnelse: Nordlys Supply vill gärna höra vad du tycker"),
        ("nb", "Hei,", "Påminnelse: Nordlys Supply vil gjerne høre hva du mener"),
    ],
)
def test_reminders_and_nameless_greetings_in_each_language(templates, language, greeting, subject):
    message = _message(templates, language=language, name="", reminder=True)
    assert message.subject == subject
    assert message.text.startswith(greeting)


def test_csi_invitation_offers_one_to_ten(templates):
    message = _message(templates, key="csi", language="en")
    assert "?score=1" in message.html and "?score=10" in message.html
    assert "?score=0" not in message.html


# outbox ---------------------------------------------------------------------------------


def test_outbox_writes_one_parseable_eml_per_message(templates, tmp_path):
    backend = OutboxBackend(tmp_path / "outbox", SENDER)
    results = backend.send(
        [_message(templates, invitation_id=1), _message(templates, invitation_id=2)]
    )
    assert [(r.invitation_id, r.ok) for r in results] == [(1, True), (2, True)]
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Nordlys Supply vil gerne høre din mening"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["From"] == "Nordlys Supply <no-reply@nordlys.test>"
    assert parsed["Content-Language"] == "da"  # screen readers and clients pick the language
    html = parsed.get_body(("html",)).get_content()
    assert "score=10" in html and "Søren &lt;Ø&gt;" in html
    assert "score=10" in parsed.get_body(("plain",)).get_content()


def test_outbox_that_cannot_be_created_is_a_delivery_error(templates, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DeliveryError, match="cannot create outbox"):
        OutboxBackend(blocker / "outbox", SENDER).send([_message(templates)])


# SMTP -----------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refused.test"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_smtp_sends_and_reports_refused_recipients_as_permanent(templates, smtp_server):
    inbox, port = smtp_server
    backend = SmtpBackend("127.0.0.1", port, SENDER, starttls=False)
    results = backend.send(
        [
            _message(templates, invitation_id=1),
            _message(templates, invitation_id=2, email="ghost@refused.test"),
            _message(templates, invitation_id=3, language="sv", email="asa@kund.se"),
        ]
    )
    assert [(r.invitation_id, r.ok, r.permanent) for r in results] == [
        (1, True, False),
        (2, False, True),
        (3, True, False),
    ]
    assert [m["To"].addresses[0].addr_spec for m in inbox.messages] == [
        "soren@kunde.dk",
        "asa@kund.se",
    ]
    assert inbox.messages[1]["Subject"] == "Nordlys Supply vill gärna höra vad du tycker"


def test_smtp_server_down_is_a_delivery_error(templates):
    backend = SmtpBackend("127.0.0.1", 1, SENDER, starttls=False, timeout=2)
    with pytest.raises(DeliveryError, match="SMTP 127.0.0.1:1"):
        backend.send([_message(templates)])


# SendGrid -------------------------------------------------------------------------------


@pytest.fixture
def sendgrid():
    server = SendGridServer().start()
    yield server
    server.stop()


def _sendgrid_backend(server, sleeps=None, **kwargs):
    return SendGridBackend(
        "SG.test-key",
        SENDER,
        host=server.url,
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **kwargs,
    )


def test_sendgrid_body_is_valid_and_carries_each_recipients_values(templates, sendgrid):
    messages = [
        _message(templates, invitation_id=i, token=f"tok{i}", email=f"c{i}@kunde.dk")
        for i in range(3)
    ]
    results = _sendgrid_backend(sendgrid).send(messages)
    assert all(r.ok for r in results)
    (request,) = sendgrid.received
    assert request.errors == [] and request.authorization == "Bearer SG.test-key"
    body = request.body
    assert len(body["personalizations"]) == 3
    first = body["personalizations"][0]
    assert first["custom_args"] == {"invitation_id": "0"}
    assert first["substitutions"]["%fb_token%"] == "tok0"
    assert first["headers"]["List-Unsubscribe"] == "<https://survey.example/u/tok0>"
    assert "%fb_token%" in body["content"][1]["value"]
    assert body["tracking_settings"]["click_tracking"]["enable"] is False


def test_sendgrid_splits_at_1000_and_by_language(templates, sendgrid):
    english = _message(templates, language="en")
    danish = _message(templates, language="da")
    messages = [type(english)(**{**english.__dict__, "invitation_id": i}) for i in range(1500)] + [
        type(danish)(**{**danish.__dict__, "invitation_id": 2000 + i}) for i in range(10)
    ]
    results = _sendgrid_backend(sendgrid).send(messages)
    assert len(results) == 1510 and all(r.ok for r in results)
    sizes = [len(r.body["personalizations"]) for r in sendgrid.received]
    assert sizes == [1000, 500, 10]
    assert all(r.errors == [] for r in sendgrid.received)


def test_sendgrid_waits_for_rate_limit_reset_and_retries_5xx_never_twice(templates, sendgrid):
    reset = int(time.time()) + 3
    sendgrid.answer((429, {"X-RateLimit-Reset": reset}), (500, {}), (202, {}))
    sleeps: list[float] = []
    messages = [_message(templates, invitation_id=i) for i in range(5)]
    results = _sendgrid_backend(sendgrid, sleeps).send(messages)
    assert all(r.ok for r in results)
    assert [r.status for r in sendgrid.received] == [429, 500, 202]
    assert 1.5 < sleeps[0] <= 3.05 and sleeps[1] == 0.5
    assert sorted(sendgrid.accepted_invitations()) == ["0", "1", "2", "3", "4"]


def test_sendgrid_gives_back_a_batch_it_kept_refusing(templates, sendgrid):
    sendgrid.answer(*[(503, {})] * 3)
    results = _sendgrid_backend(sendgrid, max_attempts=3).send([_message(templates)])
    assert [(r.ok, r.permanent) for r in results] == [(False, False)]
    assert sendgrid.accepted_invitations() == []


def test_sendgrid_bad_request_is_permanent_and_bad_key_stops_everything(templates, sendgrid):
    sendgrid.answer((400, {}))
    (result,) = _sendgrid_backend(sendgrid).send([_message(templates)])
    assert (result.ok, result.permanent) == (False, True) and "400" in result.detail
    sendgrid.answer((401, {}))
    with pytest.raises(DeliveryError, match="401"):
        _sendgrid_backend(sendgrid).send([_message(templates)])


def test_sendgrid_unreachable_is_a_delivery_error(templates):
    backend = SendGridBackend("SG.k", SENDER, host="http://127.0.0.1:1")
    with pytest.raises(DeliveryError, match="cannot reach SendGrid"):
        backend.send([_message(templates)])


# the sending job, end to end ------------------------------------------------------------


@pytest.fixture
def open_wave(templates, create_customer):
    customers = [create_customer(language=lang) for lang in ("da", "sv", "nb", "en") * 5]
    for n, customer in enumerate(customers):
        db.session.add(Contact(customer_id=customer.id, email=f"c{n}@kunde.test", name=f"K {n}",
                               language=customer.language))  # fmt: skip
    db.session.commit()
    survey = create_survey("NPS", "nps", templates=templates, actor=None)
    wave = create_wave(survey, audience={}, actor=None, now=NOW)
    db.session.commit()
    dispatch.start_wave(wave, templates=templates, now=NOW, quiet_days=90)
    db.session.commit()
    return wave


def _states() -> dict[str, int]:
    return dict(
        db.session.execute(select(Invitation.state, func.count()).group_by(Invitation.state)).all()
    )


def test_wave_goes_out_through_sendgrid_exactly_once(app, open_wave, sendgrid):
    config = {**app.config, "FEEDBACK_SEND_BATCH": 7}
    sendgrid.answer((429, {"X-RateLimit-Reset": int(time.time())}), (500, {}))
    report = send_due_invitations(config, _sendgrid_backend(sendgrid), now=NOW)
    assert (report.sent, report.failed) == (20, 0)
    assert _states() == {"sent": 20}
    assert all(r.errors == [] for r in sendgrid.received)
    accepted = sendgrid.accepted_invitations()
    assert len(accepted) == 20 and len(set(accepted)) == 20
    again = send_due_invitations(config, _sendgrid_backend(sendgrid), now=NOW)
    assert again.sent == 0 and len(sendgrid.accepted_invitations()) == 20
    languages = {r.body["subject"] for r in sendgrid.received if r.status == 202}
    assert "Nordlys Supply vil gerne høre din mening" in languages


def test_reminders_go_to_those_who_have_not_answered(app, open_wave, outbox_dir):
    backend = OutboxBackend(outbox_dir / "reminders", SENDER)
    send_due_invitations(app.config, backend, now=NOW)
    answered = db.session.scalars(select(Invitation).limit(1)).one()
    answered.state, answered.answered_at = "answered", NOW
    db.session.commit()
    later = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)  # three days on
    report = send_due_reminders(app.config, backend, now=later)
    assert report.sent == 19
    subjects = {
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]
        for p in (outbox_dir / "reminders").glob("*.eml")
    }
    assert "Påmindelse: Nordlys Supply vil gerne høre din mening" in subjects
    assert "Påminnelse: Nordlys Supply vill gärna höra vad du tycker" in subjects
    assert send_due_reminders(app.config, backend, now=later).sent == 0
