"""The Grow–Retain follow-up programme: the YAML, each customer's status, the contact log,
the once-per-period overdue alert, and the pages and commands with their authorisation."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.followups.programme import ProgrammeError, add_months, load_programme
from feedback.followups.services import (
    NotAllowed,
    contact_history,
    contact_moment,
    followup_status,
    log_contact,
)
from feedback.risk.models import ContactLog, FollowupAlert
from feedback.surveys.models import Invitation, Survey, Wave
from tests.conftest import csrf_token

CPH = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 3, 16)  # a Monday
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
LONG_AGO = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
PROGRAMME = load_programme()


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def segmented(create_customer):
    """segmented(klass, programme, owner=None, added=LONG_AGO) -> a customer in the latest
    segment run with that class and programme."""
    state = {}

    def factory(klass="A", programme="grow", owner=None, added=LONG_AGO, name=None):
        customer = create_customer(owner=owner, name=name)
        customer.created_at = added
        if "run" not in state:
            state["run"] = SegmentRun(as_of=TODAY, thresholds="50,30,15", base_currency="EUR")
            db.session.add(state["run"])
            db.session.flush()
        db.session.add(CustomerSegment(run_id=state["run"].id, customer_id=customer.id,
                                       revenue_12m=Decimal("1000"), abc_class=klass,
                                       programme=programme, rank=1))  # fmt: skip
        db.session.commit()
        return customer

    return factory


def contact(customer, user, when: datetime, kind="call", note=""):
    db.session.add(ContactLog(customer_id=customer.id, user_id=user.id if user else None,
                              kind=kind, at=when, note=note))  # fmt: skip
    db.session.commit()


def status_of(customer, today=TODAY, programme=PROGRAMME):
    return followup_status([customer.id], today, programme=programme, tz=CPH)[customer.id]


# --- the YAML ----------------------------------------------------------------------------


def test_the_shipped_programme_follows_the_domain():
    rule = PROGRAMME.rule
    assert (rule("A", "grow").every, rule("A", "grow").by) == ("every week", "owner")
    assert (rule("A", "retain").every, rule("A", "retain").by) == ("every week", "owner")
    assert rule("B", "grow").every == "every 3 months"
    assert rule("B", "retain").every == "every 6 months"
    assert rule("C", "grow").every == rule("D", "grow").every == "every 3 months"
    assert rule("C", "retain").by == "team:Internal sales"
    assert (rule("D", "retain").every, rule("D", "retain").by) == ("every 12 months", "automated")
    assert rule("C", "grow").fallback == "team:Internal sales"  # the file's fallback
    assert rule("C", "retain").fallback is None


BAD_FILES = {
    "every": (
        "fallback: team:Sales\nclasses: {A: {grow: {every: 3 moths, by: owner}}}",
        "followup.yaml: classes.A.grow.every: a period such as 1 week, 3 months or 12 months "
        "(got '3 moths')",
    ),
    "every_zero": ("classes: {A: {grow: {every: 0 weeks, by: owner}}}",
                   "classes.A.grow.every: from 1 week to five years (got '0 weeks')"),
    "by": ("classes: {A: {grow: {every: 1 week, by: boss}}}",
           "classes.A.grow.by: owner, team:<team name> or automated (got 'boss')"),
    "class": ("classes: {E: {grow: {every: 1 week, by: owner}}}",
              "classes.E: not a class (use A, B, C, D)"),
    "programme": ("classes: {A: {keep: {every: 1 week, by: owner}}}",
                  "classes.A.keep: not a programme (use grow, retain)"),
    "missing": ("classes: {A: {grow: {every: 1 week, by: owner}}}",
                "classes.B: missing: a mapping with grow and retain"),
    "missing_programme": ("classes: {A: {grow: {every: 1 week, by: owner}}}",
                          "classes.A.retain: missing: a mapping with every and by"),
    "fallback": ("fallback: Sales\nclasses: {}", "followup.yaml: fallback: team:<team name> "
                 "(got 'Sales')"),
    "no_fallback": ("classes: {}", "followup.yaml: fallback: required"),
    "fallback_with_team": (
        "classes: {A: {grow: {every: 1 week, by: 'team:X', fallback: 'team:Y'}}}",
        "classes.A.grow.fallback: only used with by: owner",
    ),
    "unknown_key": ("classes: {A: {grow: {every: 1 week, by: owner, when: x}}}",
                    "classes.A.grow.when: unknown key (use by, every, fallback)"),
    "top_key": ("rules: []\nclasses: {}", "followup.yaml.rules: unknown key"),
    "yaml": ("classes: [", "followup.yaml: cannot be read"),
    "not_mapping": ("- a\n- b", "followup.yaml: must be a mapping with fallback and classes"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_programme_file_names_each_problem(tmp_path, case):
    text, expected = BAD_FILES[case]
    path = tmp_path / "followup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProgrammeError) as error:
        load_programme(path)
    assert any(expected in problem for problem in error.value.problems), error.value.problems


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "followup.yaml"
    path.write_text("classes: {A: {grow: {every: soon, by: boss}}}", encoding="utf-8")
    with pytest.raises(ProgrammeError) as error:
        load_programme(path)
    problems = error.value.problems
    assert any("fallback: required" in p for p in problems)
    assert any("classes.A.grow.every" in p for p in problems)
    assert any("classes.A.grow.by" in p for p in problems)
    assert any("classes.D: missing" in p for p in problems)


def test_months_add_up_like_a_calendar():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 16), -6) == date(2025, 9, 16)
    b_grow = PROGRAMME.rule("B", "grow")
    for offset in range(400):  # the SQL cutoff and the Python due date always agree
        today = date(2025, 1, 1) + timedelta(days=offset)
        cutoff = b_grow.cutoff(today)
        assert b_grow.due_after(cutoff) >= today > b_grow.due_after(cutoff - timedelta(days=1))


# --- status ------------------------------------------------------------------------------


def test_status_per_class_and_programme(segmented, create_user):
    owner = create_user(name="Anna Owner", team="Key accounts")
    create_user(team="Internal sales")
    a = segmented("A", "grow", owner)
    contact(a, owner, at("2026-03-09"))  # a week ago: due today, not overdue yet
    a_late = segmented("A", "retain", owner)
    contact(a_late, owner, at("2026-03-02"))  # due on the 9th: a week overdue
    b_grow = segmented("B", "grow", owner)
    contact(b_grow, owner, at("2025-12-01"))  # due 1 March
    b_retain = segmented("B", "retain", owner)
    contact(b_retain, owner, at("2025-12-01"))  # due 1 June
    c_retain = segmented("C", "retain", owner)
    d_retain = segmented("D", "retain", owner, added=at("2025-03-01"))  # never, due 1 March
    statuses = followup_status([c.id for c in (a, a_late, b_grow, b_retain, c_retain, d_retain)],
                               TODAY, programme=PROGRAMME, tz=CPH)  # fmt: skip

    s = statuses[a.id]
    assert (s.due_on, s.is_overdue, s.days_left) == (date(2026, 3, 16), False, 0)
    assert (s.responsible.kind, s.responsible.name) == ("owner", "Anna Owner")
    assert (statuses[a_late.id].due_on, statuses[a_late.id].overdue_days) == (date(2026, 3, 9), 7)
    assert statuses[b_grow.id].due_on == date(2026, 3, 1)
    assert statuses[b_grow.id].overdue_days == 15
    assert (statuses[b_retain.id].due_on, statuses[b_retain.id].is_overdue) == (
        date(2026, 6, 1), False)  # fmt: skip
    c = statuses[c_retain.id]  # never contacted: due six months after it was added
    assert (c.last_contact_at, c.due_on) == (None, date(2025, 7, 1))
    assert c.responsible.kind == "team" and c.responsible.label == "Internal sales team"
    d = statuses[d_retain.id]
    assert (d.due_on, d.overdue_days, d.responsible.kind) == (date(2026, 3, 1), 15, "automated")


def test_a_customer_without_an_owner_falls_to_the_fallback_team(segmented, create_user):
    create_user(team="Internal sales")
    former = create_user(team="Key accounts")
    former.active = False
    orphan = segmented("A", "grow")
    left_behind = segmented("B", "grow", former)
    statuses = followup_status([orphan.id, left_behind.id], TODAY, programme=PROGRAMME, tz=CPH)
    for customer in (orphan, left_behind):
        responsible = statuses[customer.id].responsible
        assert (responsible.kind, responsible.no_owner) == ("team", True)
        assert responsible.label == "Internal sales team (no owner)"


def test_a_customer_outside_any_segment_run_has_no_programme(create_customer):
    customer = create_customer()
    status = status_of(customer)
    assert (status.rule, status.due_on, status.is_overdue) == (None, None, False)
    assert status.responsible.label == "Nobody: not in a programme"


def test_days_are_the_company_days(segmented, create_user):
    owner = create_user()
    customer = segmented("A", "grow", owner)
    # 23:30 UTC on 8 March is 00:30 on 9 March in Copenhagen: due on the 16th, not the 15th
    contact(customer, owner, datetime(2026, 3, 8, 23, 30, tzinfo=UTC))
    assert status_of(customer).due_on == date(2026, 3, 16)


def test_case_actions_by_a_person_count_as_contacts(segmented, create_user):
    owner = create_user()
    customer = segmented("A", "grow", owner)
    contact(customer, owner, at("2026-02-01"))
    case = Case(customer_id=customer.id, rule_key="a_detractor", title="Call", priority="high",
                assignee_id=owner.id, due_at=at("2026-03-01"))  # fmt: skip
    db.session.add(case)
    db.session.flush()
    # the system's own events (notified, escalated) and a reassignment are not contacts
    db.session.add_all([
        CaseEvent(case_id=case.id, actor_id=None, kind="notified", at=at("2026-03-14")),
        CaseEvent(case_id=case.id, actor_id=owner.id, kind="assigned", at=at("2026-03-14")),
    ])  # fmt: skip
    db.session.commit()
    assert status_of(customer).last_contact_at == at("2026-02-01")
    db.session.add(CaseEvent(case_id=case.id, actor_id=owner.id, kind="comment",
                             detail="Called, they are fine now", at=at("2026-03-12")))  # fmt: skip
    db.session.commit()
    status = status_of(customer)
    assert (status.last_contact_at, status.due_on) == (at("2026-03-12"), date(2026, 3, 19))
    entries, total = contact_history(customer.id)
    assert total == 2
    assert [(e.kind, e.case_id, e.case_event) for e in entries] == [
        ("case", case.id, "comment"), ("call", None, None)]  # fmt: skip


def test_survey_mail_counts_only_for_automated_follow_up(segmented, create_user, create_customer):
    owner = create_user()
    d_retain = segmented("D", "retain", owner)
    d_grow = segmented("D", "grow", owner)
    wave = Wave(
        survey=Survey(name="S", template_key="nps"),
        status="open",
        audience={},
        closes_at=at("2026-02-15"),
    )
    db.session.add(wave)
    db.session.flush()
    from feedback.customers.models import Contact

    for customer, state in ((d_retain, "delivered"), (d_grow, "delivered")):
        person = Contact(customer_id=customer.id, email=f"x@{customer.external_id}.test")
        db.session.add(person)
        db.session.flush()
        db.session.add(Invitation(wave_id=wave.id, contact_id=person.id, customer_id=customer.id,
                                  token=f"t{customer.id}", language="en", state=state,
                                  sent_at=at("2026-02-01")))  # fmt: skip
    bounced = segmented("D", "retain", owner)
    person = Contact(customer_id=bounced.id, email="b@bounced.test")
    db.session.add(person)
    db.session.flush()
    db.session.add(Invitation(wave_id=wave.id, contact_id=person.id, customer_id=bounced.id,
                              token="tb", language="en", state="bounced",
                              sent_at=at("2026-02-01")))  # fmt: skip
    db.session.commit()
    assert status_of(d_retain).due_on == date(2027, 2, 1)
    assert status_of(d_grow).last_contact_at is None  # a survey is not a sales contact
    assert status_of(bounced).last_contact_at is None


# --- logging a contact -------------------------------------------------------------------


def test_logging_a_contact_moves_the_due_day(segmented, create_user):
    owner = create_user()
    customer = segmented("A", "grow", owner)
    entry = log_contact(customer, owner, "meeting", at("2026-03-13"), "  Status meeting \r\n ok ",
                        programme=PROGRAMME, tz=CPH, now=NOW)  # fmt: skip
    db.session.commit()
    assert (entry.user_id, entry.kind, entry.note) == (owner.id, "meeting", "Status meeting \n ok")
    assert status_of(customer).due_on == date(2026, 3, 20)


BAD_CONTACTS = {
    "kind": (dict(kind="visit"), "kind must be one of call, meeting, email, note (got 'visit')"),
    "future": (dict(at=at("2026-03-17")), "the contact date 2026-03-17 is in the future"),
    "ancient": (dict(at=at("2010-01-01")), "the contact date 2010-01-01 is more than ten years"),
    "naive": (dict(at=datetime(2026, 3, 1)), "the contact time needs a time zone"),
    "long": (dict(note="x" * 2001), "the note is 2,001 characters; at most 2,000 fit"),
    "nul": (dict(note="a\x00b"), "the note contains characters that could not be read"),
    "empty_note": (dict(kind="note", note="  "), "a note needs some text"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTACTS))
def test_a_bad_contact_is_refused_and_nothing_written(segmented, create_user, case):
    owner = create_user()
    customer = segmented("A", "grow", owner)
    changes, message = BAD_CONTACTS[case]
    arguments = {"kind": "call", "at": at("2026-03-10"), "note": "", **changes}
    with pytest.raises(DomainError, match=re.escape(message)):
        log_contact(customer, owner, arguments["kind"], arguments["at"], arguments["note"],
                    programme=PROGRAMME, tz=CPH, now=NOW)  # fmt: skip
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


def test_who_may_log_a_contact(segmented, create_user):
    owner = create_user(team="Key accounts")
    teammate = create_user(team="Key accounts")
    sales = create_user(team="Internal sales")
    stranger = create_user(team="Customer support")
    manager = create_user(role="manager")
    a = segmented("A", "grow", owner)
    c_retain = segmented("C", "retain", owner)  # internal sales is responsible
    orphan = segmented("B", "grow")  # no owner: the fallback team, internal sales

    def may(person, customer) -> bool:
        try:
            log_contact(customer, person, "call", at("2026-03-10"), programme=PROGRAMME, tz=CPH,
                        now=NOW)  # fmt: skip
        except NotAllowed:
            return False
        finally:
            db.session.rollback()
        return True

    assert [may(p, a) for p in (owner, teammate, sales, stranger, manager)] == [
        True, True, False, False, True]  # fmt: skip
    assert [may(p, c_retain) for p in (owner, teammate, sales, stranger)] == [
        True, True, True, False]  # fmt: skip
    assert [may(p, orphan) for p in (owner, sales, stranger, manager)] == [
        False, True, False, True]  # fmt: skip


def test_a_contact_given_by_day_is_now_today_and_noon_before():
    now = datetime(2026, 3, 16, 22, 30, tzinfo=UTC)  # 23:30 in Copenhagen
    assert contact_moment(date(2026, 3, 16), tz=CPH, now=now) == now
    assert contact_moment(date(2026, 3, 10), tz=CPH, now=now) == datetime(2026, 3, 10, 11, 0,
                                                                          tzinfo=UTC)  # fmt: skip


# --- the overdue alert -------------------------------------------------------------------


def _mails(outbox, before: set) -> list:
    fresh = sorted(set(outbox.glob("*.eml")) - before)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in fresh]


def _text(message, kind="plain") -> str:
    return message.get_body((kind,)).get_content()


@pytest.fixture
def run_alerts(app, outbox_dir):
    """run_alerts(now) -> the mails this run of the job sent."""
    from feedback.delivery.backends import backend_from_config
    from feedback.followups.alerts import alert_overdue

    def run(now: datetime):
        before = set(outbox_dir.glob("*.eml"))
        report = alert_overdue(app.config, backend_from_config(app.config), PROGRAMME, now=now)
        return report, _mails(outbox_dir, before)

    return run


def test_an_overdue_follow_up_alerts_once_per_period(segmented, create_user, run_alerts):
    owner = create_user(name="Anna Owner")
    customer = segmented("A", "grow", owner, name="Fjord & Søn <ApS>")
    contact(customer, owner, at("2026-03-02"))  # due 9 March
    report, mails = run_alerts(NOW)
    assert (report.overdue, report.new, report.mails, len(mails)) == (1, 1, 1, 1)
    assert mails[0]["To"].endswith(f"<{owner.email}>")
    alert = db.session.scalar(select(FollowupAlert))
    assert (alert.customer_id, alert.due_on, alert.user_id) == (customer.id, date(2026, 3, 9),
                                                                owner.id)  # fmt: skip
    assert alert.alerted_at is not None

    assert run_alerts(NOW + timedelta(hours=3))[1] == []  # the same day
    assert run_alerts(NOW + timedelta(days=1))[1] == []  # the next day: same overdue period

    contact(customer, owner, at("2026-03-17"))  # contacted: due 24 March, not overdue
    report, mails = run_alerts(NOW + timedelta(days=2))
    assert (report.overdue, mails) == (0, [])
    report, mails = run_alerts(NOW + timedelta(days=9))  # 25 March: a new overdue period
    assert (report.new, len(mails)) == (1, 1)
    assert sorted(db.session.scalars(select(FollowupAlert.due_on))) == [
        date(2026, 3, 9), date(2026, 3, 24)]  # fmt: skip


def test_one_digest_per_person_with_their_newly_overdue_customers(
    segmented, create_user, run_alerts, app
):
    owner = create_user(name="Anna Owner", team="Key accounts")
    sales = [create_user(name=f"Sales {n}", team="Internal sales") for n in (1, 2)]
    gone = create_user(team="Internal sales")
    gone.active = False
    db.session.commit()
    first = segmented("A", "grow", owner, name="Fjord & Søn <ApS>")
    contact(first, owner, at("2026-03-02"))
    second = segmented("B", "retain", owner, name="Berg Bygg")
    contact(second, owner, at("2025-08-01"))  # due 1 Feb: the most overdue
    c_retain = segmented("C", "retain", owner, name="Cederlund")  # the team's
    segmented("D", "retain", owner, added=at("2024-01-01"))  # automated: nobody alerted
    report, mails = run_alerts(NOW)
    assert (report.overdue, report.new) == (4, 3)
    by_person = {m["To"].split("<")[-1].rstrip(">"): m for m in mails}
    assert sorted(by_person) == sorted([owner.email, sales[0].email, sales[1].email])
    anna = by_person[owner.email]
    assert anna["Subject"] == "Follow-up overdue: 2 customers"
    text = _text(anna)
    assert "Hello Anna Owner," in text
    assert text.index("Berg Bygg") < text.index("Fjord & Søn <ApS>")  # most overdue first
    assert "class B retain, every 6 months; last contact 2025-08-01; due 2026-02-01, " \
           "overdue by 43 days" in text  # fmt: skip
    assert f"{app.config['FEEDBACK_BASE_URL']}/customers/{first.external_id}" in text
    assert "Fjord &amp; Søn &lt;ApS&gt;" in _text(anna, "html")
    team_mail = _text(by_person[sales[0].email])
    assert "Cederlund" in team_mail and "for the Internal sales team" in team_mail
    assert "Berg Bygg" not in team_mail
    assert by_person[sales[0].email]["Subject"] == "Follow-up overdue: 1 customer – Cederlund"
    alert = db.session.get(FollowupAlert, (c_retain.id, date(2025, 7, 1)))
    assert (alert.user_id, alert.team_id) == (None, sales[0].team_id)


def test_an_alert_the_backend_could_not_take_waits_for_the_next_run(segmented, create_user, app):
    from feedback.delivery.message import DeliveryError, SendResult
    from feedback.followups.alerts import alert_overdue

    owner = create_user()
    segmented("A", "grow", owner, added=at("2026-01-01"))

    class Down:
        def send(self, messages):
            raise DeliveryError("mail server down")

    class Up:
        sent: list = []

        def send(self, messages):
            self.sent += messages
            return [SendResult(m.invitation_id, ok=True) for m in messages]

    report = alert_overdue(app.config, Down(), PROGRAMME, now=NOW)
    assert (report.new, report.mails) == (0, 0)
    assert db.session.scalar(select(FollowupAlert.alerted_at)) is None
    up = Up()
    assert alert_overdue(app.config, up, PROGRAMME, now=NOW).mails == 1
    assert alert_overdue(app.config, up, PROGRAMME, now=NOW).mails == 0
    assert len(up.sent) == 1


def test_nobody_is_alerted_when_the_responsible_team_is_missing(segmented, run_alerts):
    segmented("A", "grow")  # no owner, and there is no Internal sales team
    report, mails = run_alerts(NOW)
    assert (report.overdue, report.nobody, mails) == (1, 1, [])
    assert "1 with nobody to alert" in report.summary()
    assert db.session.scalar(select(func.count()).select_from(FollowupAlert)) == 0


def test_the_alert_job_runs_daily(app):
    from feedback.jobs.registry import JOBS, run_job

    assert JOBS["followup_overdue"].every_seconds == 24 * 3600
    assert run_job(app, "followup_overdue") == "0 customers overdue, 0 newly alerted in 0 mails"


# --- pages -------------------------------------------------------------------------------


def _customer_url(customer) -> str:
    return f"/customers/{customer.external_id}"


def _log_url(customer) -> str:
    return f"/followups/customers/{customer.external_id}/contacts"


def _post_contact(client, customer, **fields):
    token = csrf_token(client, _customer_url(customer))
    data = {"contact-kind": "call", "contact-on": date.today().isoformat(), "contact-note": "",
            "csrf_token": token, **fields}  # fmt: skip
    return client.post(_log_url(customer), data=data)


def test_pages_need_a_signed_in_staff_member(client, segmented, create_user):
    customer = segmented("A", "grow")
    for response in (client.get("/followups"), client.post(_log_url(customer), data={})):
        assert response.status_code in (302, 400)  # a POST without a token stops at CSRF
    assert client.get("/followups").headers["Location"].startswith("/login")
    token = csrf_token(client, "/login")
    response = client.post(_log_url(customer), data={"csrf_token": token, "contact-kind": "call"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


def test_an_agent_logs_a_contact_on_their_customer_page(client, login_as, segmented):
    agent = login_as("agent", name="Anna Agent", team="Key accounts")
    customer = segmented("A", "grow", agent, name="Fjord <b>& Søn</b>")
    page = client.get(_customer_url(customer)).get_data(as_text=True)
    assert 'id="followup"' in page and "Log a contact" in page
    assert "contact every week" in page and "Overdue by" in page
    response = _post_contact(
        client,
        customer,
        **{
            "contact-kind": "meeting",
            "contact-note": "<script>alert(1)</script> agreed a new price",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{_customer_url(customer)}#followup")
    entry = db.session.scalar(select(ContactLog))
    assert (entry.kind, entry.user_id) == ("meeting", agent.id)
    page = client.get(_customer_url(customer)).get_data(as_text=True)
    assert "logged for Fjord &lt;b&gt;&amp; Søn&lt;/b&gt;." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; agreed a new price" in page
    assert "<script>alert(1)" not in page
    assert "On track" in page


def test_an_agent_cannot_log_for_another_teams_customer(client, login_as, segmented,
                                                        create_user):  # fmt: skip
    other = create_user(team="Key accounts")
    login_as("agent", team="Customer support")
    customer = segmented("A", "grow", other)
    page = client.get(_customer_url(customer)).get_data(as_text=True)
    assert "Log a contact" not in page and "Only the customer's owner" in page
    response = _post_contact(client, customer)
    assert response.status_code == 403
    assert "a manager may log contacts for this customer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


def test_a_manager_logs_for_any_customer(client, login_as, segmented, create_user):
    login_as("manager")
    customer = segmented("B", "retain", create_user(team="Key accounts"))
    assert _post_contact(client, customer).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 1


def test_logging_needs_the_forms_csrf_token(client, login_as, segmented):
    agent = login_as("agent")
    customer = segmented("A", "grow", agent)
    client.get(_customer_url(customer))
    response = client.post(
        _log_url(customer), data={"contact-kind": "call", "contact-on": date.today().isoformat()}
    )
    assert response.status_code == 400 and "form expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


BAD_FORMS = {
    "kind": ({"contact-kind": "visit"}, "Nothing was logged. Contact: choose a call, meeting, "
             "e-mail or note"),
    "future": ({"contact-on": (date.today() + timedelta(days=1)).isoformat()},
               "Nothing was logged. Date: " + (date.today() + timedelta(days=1)).isoformat()
               + " is in the future; log contacts that have happened"),
    "not_a_date": ({"contact-on": "yesterday"}, "Nothing was logged. Date: "),
    "long": ({"contact-note": "x" * 2001}, "Nothing was logged. Note: at most 2,000 characters"),
    "empty_note": ({"contact-kind": "note", "contact-note": " "},
                   "Nothing was logged: a note needs some text"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FORMS))
def test_bad_input_on_the_page_is_named_and_nothing_written(client, login_as, segmented, case):
    agent = login_as("agent")
    customer = segmented("A", "grow", agent)
    fields, message = BAD_FORMS[case]
    response = _post_contact(client, customer, **fields)
    assert response.status_code == 303
    page = client.get(_customer_url(customer)).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


def test_an_unknown_customer_is_a_404(client, login_as):
    login_as("manager")
    token = csrf_token(client, "/followups")
    response = client.post("/followups/customers/NOPE/contacts", data={"csrf_token": token})
    assert response.status_code == 404 and "no customer with number" in response.get_data(
        as_text=True)  # fmt: skip


def test_the_followups_page_groups_overdue_customers_by_owner(client, login_as, segmented,
                                                              create_user):  # fmt: skip
    manager = login_as("manager")
    anna = create_user(name="Anna <Owner>", team="Key accounts")
    bo = create_user(name="Bo Berg", team="Internal sales")
    segmented("A", "grow", anna, name="Alpha & Co")
    segmented("B", "grow", anna, name="Beta")
    segmented("C", "grow", bo, name="Gamma")
    segmented("A", "retain", name="Orphan AB")
    segmented("D", "retain", bo, name="Delta")  # automated: left out, counted
    fresh = segmented("A", "grow", anna, name="Fresh")
    contact(fresh, anna, datetime.now(UTC))
    page = client.get("/followups").get_data(as_text=True)
    assert "Anna &lt;Owner&gt;" in page and "Alpha &amp; Co" in page
    assert page.index("Anna &lt;Owner&gt;") < page.index("Bo Berg") < page.index("Orphan AB")
    assert "Internal sales team (no owner)" in page  # Bo's team stands in for an owner
    assert "Fresh" not in page and "Delta" not in page
    assert "Not listed: 1 customer followed up by automated e-mail" in page
    assert "Delta" in client.get("/followups?automated=1").get_data(as_text=True)
    filtered = client.get(f"/followups?owner={bo.id}&class=C").get_data(as_text=True)
    assert "Gamma" in filtered and "Alpha" not in filtered
    only_orphans = client.get("/followups?owner=none").get_data(as_text=True)
    assert "Orphan AB" in only_orphans and "Gamma" not in only_orphans
    odd = client.get("/followups?class=Z&programme=keep&owner=x").get_data(as_text=True)
    assert "Ignored class “Z”, programme “keep”, owner “x”" in odd
    assert manager.role == "manager"


def test_agents_see_their_own_and_their_teams_overdue_customers(client, login_as, segmented,
                                                                create_user):  # fmt: skip
    agent = login_as("agent", team="Internal sales")
    teammate = create_user(team="Internal sales")
    stranger = create_user(team="Key accounts")
    segmented("C", "grow", agent, name="Mine")
    segmented("C", "grow", teammate, name="Teammates")
    segmented("C", "retain", stranger, name="Team-followed")  # internal sales' by programme
    segmented("B", "grow", name="Ownerless")  # the fallback team: internal sales
    segmented("A", "grow", stranger, name="Someone else's")
    page = client.get("/followups").get_data(as_text=True)
    for name in ("Mine", "Teammates", "Team-followed", "Ownerless"):
        assert name in page
    assert "Someone else&#39;s" not in page and "Someone else's" not in page
    # the nav links here
    assert '<a href="/followups" class="active" aria-current="page">Follow-ups</a>' in page


# --- the command line --------------------------------------------------------------------


def test_cli_overdue_and_alert(app, segmented, create_user, outbox_dir):
    from feedback.followups.cli import followups_cli

    owner = create_user(name="Anna Owner")
    segmented("A", "grow", owner, name="Alpha", added=at("2026-01-01"))
    runner = app.test_cli_runner()
    result = runner.invoke(followups_cli, ["overdue", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [
        (r["name"], r["every"], r["responsible"], r["owner_email"], r["last_contact"]) for r in rows
    ] == [("Alpha", "every week", "Anna Owner", owner.email, None)]
    assert rows[0]["due_on"] == "2026-01-08"
    assert "1 customers overdue." in runner.invoke(followups_cli, ["overdue"]).output
    before = set(outbox_dir.glob("*.eml"))
    assert runner.invoke(followups_cli, ["alert"]).output.startswith(
        "1 customers overdue, 1 newly alerted in 1 mails")  # fmt: skip
    assert runner.invoke(followups_cli, ["alert"]).output.startswith(
        "1 customers overdue, 0 newly alerted in 0 mails")  # fmt: skip
    assert len(set(outbox_dir.glob("*.eml")) - before) == 1


def test_cli_log(app, segmented, create_user):
    from feedback.followups.cli import followups_cli

    owner = create_user()
    customer = segmented("A", "grow", owner)
    runner = app.test_cli_runner()
    day = (date.today() - timedelta(days=2)).isoformat()
    result = runner.invoke(followups_cli, ["log", customer.external_id, "--kind", "call",
                                           "--by", owner.email.upper(), "--note", "Fine",
                                           "--at", day])  # fmt: skip
    assert result.exit_code == 0, result.output
    due = (date.today() + timedelta(days=5)).isoformat()
    assert result.output.strip().endswith(f"next contact due {due}.")
    entry = db.session.scalar(select(ContactLog))
    assert (entry.kind, entry.note, entry.user_id) == ("call", "Fine", owner.id)


BAD_COMMANDS = {
    "kind": (["--kind", "visit"], "Invalid value for '--kind': 'visit' is not one of"),
    "by": (["--by", "nobody@example.com"], "no staff member with e-mail 'nobody@example.com'"),
    "at": (["--at", "soon"], "Invalid value for --at: 'soon' is not a day (YYYY-MM-DD)"),
    "future": (["--at", "2999-01-01"], "the contact date 2999-01-01 is in the future"),
    "customer": (["--customer", "NOPE"], "no customer with external id 'NOPE'"),
    "note": (["--note", "x" * 2001], "the note is 2,001 characters; at most 2,000 fit"),
}


@pytest.mark.parametrize("case", sorted(BAD_COMMANDS))
def test_cli_log_names_bad_input(app, segmented, create_user, case):
    from feedback.followups.cli import followups_cli

    owner = create_user()
    customer = segmented("A", "grow", owner)
    changes, message = BAD_COMMANDS[case]
    options = {"--kind": "call", "--by": owner.email, "--customer": customer.external_id}
    for name, value in zip(changes[::2], changes[1::2], strict=True):
        options[name] = value
    args = ["log", options.pop("--customer")] + [x for pair in options.items() for x in pair]
    result = app.test_cli_runner().invoke(followups_cli, args)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(ContactLog)) == 0


def test_cli_check_and_a_broken_file(app, make_app, tmp_path, create_user):
    from feedback.followups.cli import followups_cli

    runner = app.test_cli_runner()
    good = runner.invoke(followups_cli, ["check"])
    assert good.exit_code == 1 and "no team named Internal sales" in good.output
    create_user(team="Internal sales")
    good = runner.invoke(followups_cli, ["check"])
    assert good.exit_code == 0 and good.output.strip().endswith("OK")
    assert "D retain  every 12 months  by automated" in good.output
    broken = tmp_path / "followup.yaml"
    broken.write_text("classes: {}", encoding="utf-8")
    other = make_app(FEEDBACK_FOLLOWUP_FILE=str(broken))
    with other.app_context():
        result = other.test_cli_runner().invoke(followups_cli, ["overdue"])
    assert result.exit_code == 1 and "followup.yaml: fallback: required" in result.output
