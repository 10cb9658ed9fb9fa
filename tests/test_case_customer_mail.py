"""The customer's side of a case: the acknowledgement and the "did we solve it?" follow-up.

Each mail goes out once however often the jobs run, in the contact's language, never to a
contact who opted out; the follow-up page records nothing on a GET (mail scanners), records
the page's own POST, and a "no" reopens the case."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from feedback.auth.services import get_or_create_team
from feedback.cases.customer_mail import (
    acknowledge_cases,
    request_followup,
    send_followups,
)
from feedback.cases.models import Case, CaseEvent
from feedback.cases.services import change_status
from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.delivery.backends.outbox import OutboxBackend
from feedback.delivery.message import DeliveryError
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.routing.rules import load_rules
from feedback.surveys import dispatch
from feedback.surveys.models import Invitation
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates

RULES = load_rules()  # cd_retain_detractor acknowledges; a_detractor does not
CONFIG = {
    "FEEDBACK_BASE_URL": "https://loop.example.com",
    "FEEDBACK_COMPANY_NAME": "Nordlys Supply",
    "FEEDBACK_TIMEZONE": "Europe/Copenhagen",
}
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def outbox(tmp_path):
    directory = tmp_path / "outbox"
    backend = OutboxBackend(directory, ("loop@nordlys.example.com", "Nordlys Supply"))

    def mails():
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(directory.glob("*.eml"))]  # fmt: skip

    backend.mails = mails
    return backend


@pytest.fixture
def people(create_user):
    return {
        "agent": create_user(
            "mette@nordlys.example.com", name="Mette Lund", team="Customer support"
        ),
        "nameless": create_user("ops@nordlys.example.com", team="Customer support"),
    }


@pytest.fixture
def make_case(create_customer):
    """A case on a real answer: customer, contact, invitation, response, case."""
    templates = load_templates()

    def factory(rule_key="cd_retain_detractor", language="da", name="Søren Østergaard",
                status="active", assignee=None, team="Customer support", created=None,
                due=timedelta(days=5)):  # fmt: skip
        now = utcnow()
        created = created or now
        customer = create_customer(language=language, name="Østergaard Byg ApS")
        contact = Contact(customer_id=customer.id, email=f"{customer.external_id}@kunde.test",
                          name=name, language=language)  # fmt: skip
        db.session.add(contact)
        survey = create_survey(f"S {customer.external_id}", "nps", templates=templates, actor=None)
        wave = create_wave(survey, audience={"customer_external_ids": [customer.external_id]},
                           actor=None)  # fmt: skip
        db.session.commit()
        dispatch.start_wave(wave, templates=templates, now=now, quiet_days=90)
        invitation = db.session.scalar(select(Invitation).where(Invitation.wave_id == wave.id))
        contact.status = status  # opted out or bounced after answering
        response = Response(invitation_id=invitation.id, wave_id=wave.id, customer_id=customer.id,
                            template_version_id=wave.template_version_id, score=3,
                            comment="<script>alert(1)</script> Leveringen kom for sent",
                            language=language, answered_at=created)  # fmt: skip
        db.session.add(response)
        db.session.flush()
        case = Case(customer_id=customer.id, response_id=response.id, rule_key=rule_key,
                    title="Handle the feedback", assignee_id=assignee.id if assignee else None,
                    team_id=get_or_create_team(team).id, priority="normal",
                    created_at=created, due_at=created + due)  # fmt: skip
        db.session.add(case)
        db.session.commit()
        return case

    return factory


def _events(case_id: int, kind: str | None = None) -> list[str]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    return [e.detail for e in db.session.scalars(query) if kind is None or e.kind == kind]


def _fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


# the acknowledgement -------------------------------------------------------------------------


def test_acknowledgement_goes_out_once_in_the_contacts_language(people, make_case, outbox):
    case = make_case(assignee=people["agent"])
    not_acknowledging = make_case(rule_key="a_detractor", language="en")
    assert acknowledge_cases(CONFIG, outbox, RULES) == 1
    assert acknowledge_cases(CONFIG, outbox, RULES) == 0  # the job ran again: nothing more
    (mail,) = outbox.mails()
    assert mail["To"].addresses[0].addr_spec.endswith("@kunde.test")
    assert mail["Subject"] == "Tak for dit svar"
    assert mail["X-Feedback-Case"] == str(case.id)  # never taken for an invitation's events
    assert mail["X-Feedback-Invitation"] is None
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Kære Søren Østergaard\n")
    promise = re.search(r"Tak for dit svar – vi har læst det, og (.+) vender tilbage til dig "
                        r"senest (\w+) den (\d+)\. (\w+) (\d{4})\.", text)  # fmt: skip
    assert promise and promise.group(1) == "Mette Lund"
    due = case.due_at.astimezone(ZoneInfo("Europe/Copenhagen"))
    assert promise.group(3, 5) == (str(due.day), str(due.year))
    assert promise.group(2) == ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag",
                                "søndag")[due.weekday()]  # fmt: skip
    assert "Venlig hilsen\nNordlys Supply" in text
    assert "Leveringen" not in text  # no quoting of the answer, no promises beyond the date
    acknowledged = _fresh(case.id)
    assert acknowledged.acknowledged_at is not None
    (detail,) = _events(case.id, "acknowledged")
    assert "Søren Østergaard" in detail and "(da)" in detail
    assert _fresh(not_acknowledging.id).acknowledged_at is None


def test_a_queue_or_a_nameless_assignee_is_acknowledged_without_a_person(people, make_case, outbox):
    make_case(language="sv", name="")
    make_case(language="nb", assignee=people["nameless"])
    assert acknowledge_cases(CONFIG, outbox, RULES) == 2
    texts = {m["Subject"]: m.get_body(("plain",)).get_content() for m in outbox.mails()}
    texts = {"sv": texts["Tack för ditt svar"], "nb": texts["Takk for svaret ditt"]}
    assert texts["sv"].startswith("Hej,\n")
    assert "någon av oss på Customer support återkommer till dig senast" in texts["sv"]
    assert "en av oss i Customer support tar kontakt med deg innen" in texts["nb"]
    assert "ops@" not in texts["nb"]  # a login is never presented as a name


def test_opted_out_and_bounced_contacts_get_no_acknowledgement_and_the_history_says_why(
    people, make_case, outbox
):
    opted_out = make_case(status="opted_out")
    bounced = make_case(status="bounced")
    assert acknowledge_cases(CONFIG, outbox, RULES) == 0
    assert acknowledge_cases(CONFIG, outbox, RULES) == 0
    assert outbox.mails() == []
    (why,) = _events(opted_out.id, "not_acknowledged")
    assert why.startswith("No acknowledgement sent:") and "opted out" in why
    assert "bounces" in _events(bounced.id, "not_acknowledged")[0]
    assert _events(opted_out.id, "acknowledged") == []


def test_old_and_closed_cases_are_not_acknowledged(people, make_case, outbox):
    old = make_case(created=utcnow() - timedelta(days=3))  # e.g. the rule was switched on later
    closed = make_case()
    change_status(people["agent"], closed, "no_action", note="Duplicate.")
    db.session.commit()
    assert acknowledge_cases(CONFIG, outbox, RULES) == 0
    assert outbox.mails() == []
    assert _fresh(old.id).acknowledged_at is None and _events(old.id) == []
    assert "closed" in _events(closed.id, "not_acknowledged")[0]


def test_a_backend_that_is_down_leaves_the_acknowledgement_for_the_next_run(make_case, outbox):
    class Down:
        def send(self, messages):
            raise DeliveryError("connection refused")

    case = make_case()
    assert acknowledge_cases(CONFIG, Down(), RULES) == 0
    assert _fresh(case.id).acknowledged_at is None
    assert acknowledge_cases(CONFIG, outbox, RULES) == 1
    assert len(outbox.mails()) == 1


def test_customer_text_is_escaped_in_the_html_and_plain_in_the_text(people, make_case, outbox):
    case = make_case(language="en", name="<b>Åse</b> & Co")
    assert acknowledge_cases(CONFIG, outbox, RULES) == 1
    change_status(people["agent"], case, "resolved", note="Redelivered.")
    request_followup(case)
    db.session.commit()
    assert send_followups(CONFIG, outbox) == 1
    for mail in outbox.mails():
        html = mail.get_body(("html",)).get_content()
        assert "&lt;b&gt;Åse&lt;/b&gt; &amp; Co" in html and "<b>Åse</b>" not in html
        assert "<b>Åse</b> & Co" in mail.get_body(("plain",)).get_content()


# the follow-up mail ----------------------------------------------------------------------------


def test_followup_only_for_a_resolved_case_on_request_and_exactly_once(people, make_case, outbox):
    case = make_case(language="nb", assignee=people["agent"])
    with pytest.raises(DomainError, match="only a resolved case"):
        request_followup(case)
    change_status(people["agent"], case, "resolved", note="Credit note sent.")
    db.session.commit()
    assert send_followups(CONFIG, outbox) == 0  # resolved, but nobody asked for a follow-up
    request_followup(case)
    token = case.followup_token
    request_followup(case)  # idempotent
    db.session.commit()
    assert token and _fresh(case.id).followup_token == token
    assert send_followups(CONFIG, outbox) == 1
    assert send_followups(CONFIG, outbox) == 0
    (mail,) = outbox.mails()
    assert mail["Subject"] == "Fikk vi løst problemet ditt?"
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    for choice in ("yes", "no"):
        assert f'href="https://loop.example.com/f/{token}?solved={choice}"' in html
    assert f"Ja: https://loop.example.com/f/{token}?solved=yes" in text
    assert f"Nei: https://loop.example.com/f/{token}?solved=no" in text
    assert "Er problemet løst?" in text
    assert _events(case.id, "followup_sent")


def test_no_followup_to_a_contact_who_opted_out_and_the_case_says_not_sent(
    people, make_case, outbox
):
    case = make_case(status="opted_out", assignee=people["agent"])
    change_status(people["agent"], case, "resolved", note="Credit note sent.")
    request_followup(case)
    db.session.commit()
    assert send_followups(CONFIG, outbox) == 0
    assert send_followups(CONFIG, outbox) == 0
    assert outbox.mails() == []
    case = _fresh(case.id)
    assert (case.followup_sent_at, case.followup_token) == (None, None)  # staff see "not sent"
    (why,) = _events(case.id, "followup_not_sent")
    assert why.startswith("No follow-up sent:") and "opted out" in why


def test_a_case_without_an_answer_cannot_be_followed_up(people, create_customer):
    case = Case(customer_id=create_customer().id, rule_key="a_detractor", title="Call",
                team_id=get_or_create_team("Customer support").id, priority="high",
                status="resolved", due_at=utcnow())  # fmt: skip
    db.session.add(case)
    db.session.commit()
    with pytest.raises(DomainError, match="nobody to ask"):
        request_followup(case)


# the follow-up page ----------------------------------------------------------------------------


@pytest.fixture
def sent_followup(people, make_case, outbox):
    """A resolved Danish case whose follow-up went out `ago` ago: its token."""

    def factory(language="da", ago=timedelta(minutes=5)):
        case = make_case(language=language, assignee=people["agent"])
        change_status(people["agent"], case, "resolved", note="Credit note sent.")
        request_followup(case)
        db.session.commit()
        assert send_followups(CONFIG, outbox, now=utcnow() - ago) == 1
        return case.id, case.followup_token

    return factory


def _csrf(client, token) -> str:
    return _META.search(client.get(f"/f/{token}").get_data(as_text=True)).group(1)


def test_opening_the_link_shows_the_choice_and_records_nothing(client, sent_followup):
    case_id, token = sent_followup()
    page = client.get(f"/f/{token}?solved=no")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="da">' in html and "Er problemet løst?" in html
    assert 'data-record="no"' in html
    assert re.search(r'value="no" class="choice"\s+aria-pressed="true"', html)
    assert "followup.js" in html and "https://" not in html  # no third-party resources
    for _ in range(3):  # scanners fetch every link, some with HEAD
        assert client.get(f"/f/{token}?solved=yes").status_code == 200
        assert client.head(f"/f/{token}?solved=no").status_code == 200
    case = _fresh(case_id)
    assert (case.followup_solved, case.followup_answered_at) == (None, None)
    assert case.status == "resolved"
    assert _events(case_id, "followup") == []


def test_the_pages_post_records_and_no_reopens_the_case(client, sent_followup):
    case_id, token = sent_followup()
    headers = {"X-CSRFToken": _csrf(client, token)}
    saved = client.post(f"/f/{token}", json={"solved": "no"}, headers=headers)
    assert saved.status_code == 200 and saved.get_json() == {"saved": True, "solved": "no"}
    case = _fresh(case_id)
    assert (case.followup_solved, case.status, case.closed_at) == (False, "in_progress", None)
    assert case.followup_answered_at is not None
    assert case.due_at > utcnow() + timedelta(days=4)  # time to act again, not breached at once
    (detail,) = _events(case_id, "followup")
    assert detail.startswith("Customer says the problem is not solved; reopened")
    # The same answer again (a reload) records nothing more.
    client.post(f"/f/{token}", json={"solved": "no"}, headers=headers)
    assert len(_events(case_id, "followup")) == 1
    page = client.get(f"/f/{token}?solved=no").get_data(as_text=True)
    assert "data-record" not in page  # already stored: the page does not post it again


def test_the_customer_can_change_the_answer_with_the_plain_form(client, sent_followup):
    case_id, token = sent_followup(language="sv")
    csrf = _csrf(client, token)
    client.post(f"/f/{token}", json={"solved": "no"}, headers={"X-CSRFToken": csrf})
    changed = client.post(f"/f/{token}", data={"csrf_token": csrf, "solved": "yes"})
    assert changed.status_code == 303
    thanks = client.get(changed.headers["Location"]).get_data(as_text=True)
    assert "Tack! Vad roligt att problemet är löst." in thanks
    case = _fresh(case_id)
    assert case.followup_solved is True
    assert case.status == "in_progress"  # a "yes" never closes a case; its owner does
    assert _events(case_id, "followup") == [
        _events(case_id, "followup")[0],
        "Customer says the problem is solved",
    ]


def test_bad_token_bad_value_missing_csrf_and_expiry(client, sent_followup):
    case_id, token = sent_followup()
    unknown = client.get("/f/" + "x" * 32 + "?solved=yes")
    assert unknown.status_code == 404 and "Vi kunne ikke finde siden" in unknown.get_data(
        as_text=True
    )
    assert client.get("/f/short").status_code == 404
    csrf = _csrf(client, token)
    assert client.post("/f/" + "x" * 32, json={"solved": "yes"},
                       headers={"X-CSRFToken": csrf}).status_code == 404  # fmt: skip
    bad = client.get(f"/f/{token}?solved=maybe")
    assert bad.status_code == 400 and "Vælg venligst Ja eller Nej." in bad.get_data(as_text=True)
    bad_post = client.post(f"/f/{token}", json={"solved": "maybe"}, headers={"X-CSRFToken": csrf})
    assert bad_post.status_code == 400 and "yes or no" in bad_post.get_json()["error"]
    bad_form = client.post(f"/f/{token}", data={"csrf_token": csrf, "solved": "1"})
    assert bad_form.status_code == 400
    refused = client.post(f"/f/{token}", json={"solved": "yes"})
    assert refused.status_code == 400 and "expired" in refused.get_json()["error"]
    form = client.post(f"/f/{token}", data={"solved": "yes"})
    assert form.status_code == 400 and "Dit svar kunne ikke læses" in form.get_data(as_text=True)
    assert _fresh(case_id).followup_solved is None and _events(case_id, "followup") == []


def test_answers_close_thirty_days_after_sending(client, sent_followup):
    case_id, token = sent_followup(language="nb", ago=timedelta(days=31))
    page = client.get(f"/f/{token}?solved=yes")
    assert page.status_code == 410 and "Spørsmålet er lukket" in page.get_data(as_text=True)
    fresh_id, fresh_token = sent_followup(language="nb")
    csrf = _csrf(client, fresh_token)  # a session token from a page that is still open
    posted = client.post(f"/f/{token}", json={"solved": "yes"}, headers={"X-CSRFToken": csrf})
    assert posted.status_code == 410
    form = client.post(f"/f/{token}", data={"csrf_token": csrf, "solved": "yes"})
    assert form.status_code == 410
    assert _fresh(case_id).followup_solved is None


def test_the_followup_page_is_rate_limited(make_app, sent_followup):
    _, token = sent_followup()
    app = make_app(FEEDBACK_PUBLIC_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        codes = [client.get(f"/f/{token}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# the jobs --------------------------------------------------------------------------------------


def test_both_jobs_are_scheduled(app, make_case, outbox_dir):
    from feedback.jobs.registry import JOBS, run_job

    assert JOBS["acknowledge_cases"].every_seconds == 60
    assert JOBS["send_case_followups"].every_seconds == 300
    make_case()
    assert run_job(app, "acknowledge_cases") == "1 customers acknowledged"
    assert run_job(app, "send_case_followups") == "0 follow-up questions sent"
