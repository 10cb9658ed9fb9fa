"""Answers become cases: the default rules on hand-made responses, assignment fallbacks, and
exactly one case per response however often (or concurrently) routing runs."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, insert, select

from feedback.auth.models import Team
from feedback.cases.models import Case, CaseEvent, RoutingDecision
from feedback.customers.models import Contact, CustomerSegment, SegmentRun
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.routing.engine import (
    _comment_matters,
    ensure_teams,
    route_pending,
    route_responses,
)
from feedback.routing.rules import Conditions, Facts, Rule, first_match, load_rules
from feedback.surveys.models import Invitation
from feedback.surveys.services import create_survey, create_wave, template_version_for
from feedback.surveys.templates import load_templates

RULES = load_rules()
NOW = utcnow()
ANSWERED = NOW - timedelta(hours=1)


def _case(response_id) -> Case | None:
    return db.session.scalar(select(Case).where(Case.response_id == response_id))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_detractor_at_an_a_customer_reaches_the_named_owner_within_24_hours(answer, create_user):
    owner = create_user("owner@nordlys.example.com", name="Lars Owner", team="Key accounts")
    response_id = answer(
        2, "A", owner=owner, comment="Deliveries are always late.", answered_at=ANSWERED
    )
    report = route_responses(RULES, [response_id], now=NOW)
    db.session.commit()
    assert (report.decided, report.cases, report.by_rule) == (1, 1, {"a_detractor": 1})
    case = _case(response_id)
    assert (case.assignee_id, case.team.name, case.priority, case.status) == (
        owner.id,
        "Key accounts",
        "urgent",
        "new",
    )
    assert case.due_at == ANSWERED + timedelta(hours=24)
    assert [e.kind for e in case.events] == ["created"]


@pytest.mark.parametrize(
    ("score", "abc_class", "programme", "comment", "language", "rule", "team"),
    [
        (5, "C", "grow", "", "en", "cd_grow_detractor", "Internal sales"),
        (1, "D", "retain", "", "en", "cd_retain_detractor", "Customer support"),
        (8, "C", "retain", "Fakturaen var forkert igen, og ingen svarer.", "da",
         "passive_negative_comment", "Customer support"),
    ],
)  # fmt: skip
def test_team_rules_and_fallbacks(answer, score, abc_class, programme, comment, language, rule,
                                  team):  # fmt: skip
    response_id = answer(score, abc_class, programme, comment=comment, language=language)
    route_responses(RULES, [response_id], now=NOW)
    db.session.commit()
    case = _case(response_id)
    assert case.rule_key == rule
    assert (case.assignee_id, case.team.name) == (None, team)


def test_a_customer_without_owner_goes_to_the_default_queue(answer):
    response_id = answer(0, "A")  # rule says "owner"; there is none and no fallback
    route_responses(RULES, [response_id], now=NOW)
    db.session.commit()
    case = _case(response_id)
    assert case.rule_key == "a_detractor"
    assert (case.assignee_id, case.team.name) == (None, "Customer support")


def test_an_inactive_owner_is_passed_over_for_their_team(answer, create_user):
    owner = create_user("gone@nordlys.example.com", team="Key accounts")
    owner.active = False
    db.session.commit()
    response_id = answer(3, "B", owner=owner)
    route_responses(RULES, [response_id], now=NOW)
    db.session.commit()
    case = _case(response_id)
    assert (case.assignee_id, case.team.name) == (None, "Customer support")


def test_content_answers_are_decided_without_a_case(answer):
    response_id = answer(9, "C")
    report = route_responses(RULES, [response_id], now=NOW)
    db.session.commit()
    assert (report.decided, report.cases) == (1, 0)
    assert _case(response_id) is None
    assert db.session.get(RoutingDecision, response_id).rule_key is None


def test_routing_twice_makes_one_case_and_waits_for_answers_to_settle(answer):
    settled = answer(2, "A")
    fresh = answer(2, "A", answered_at=NOW - timedelta(minutes=2))
    first = route_pending(RULES, now=NOW)
    again = route_pending(RULES, now=NOW)
    assert (first.cases, again.cases) == (1, 0)
    assert _case(settled) is not None and _case(fresh) is None
    later = route_pending(RULES, now=NOW + timedelta(minutes=15))
    assert later.cases == 1
    assert _count(Case) == 2 and _count(CaseEvent) == 2


def test_two_routing_jobs_at_once_make_one_case_per_response(app, answer, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite has one writer at a time; the race is real on PostgreSQL")
    for n in range(12):
        answer(n % 5, "A")
    barrier, errors = threading.Barrier(2), []

    def job():
        with app.app_context():
            try:
                barrier.wait()
                route_pending(RULES, now=NOW, limit=3)
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.remove()
    assert _count(Case) == 12 and _count(RoutingDecision) == 12


# set-based routing -----------------------------------------------------------------------


@pytest.fixture
def many(create_customer):
    """many(scores, comments=None, abc_class, programme) -> response ids: one customer, one
    wave, a response per score, written in bulk (the per-answer fixture is too slow for
    thousands)."""
    templates = load_templates()

    def factory(scores, comments=None, abc_class="C", programme="grow", language="da"):
        customer = create_customer(language=language)
        run = db.session.scalar(select(SegmentRun)) or SegmentRun(
            as_of=date.today(), thresholds="50,30,15", base_currency="EUR"
        )
        db.session.add(run)
        db.session.flush()
        segment = CustomerSegment(run_id=run.id, customer_id=customer.id, revenue_12m=0,
                                  abc_class=abc_class, programme=programme, rank=1)  # fmt: skip
        db.session.add(segment)
        survey = create_survey(f"Bulk {customer.external_id}", "nps", templates=templates,
                               actor=None)  # fmt: skip
        wave = create_wave(survey, audience={}, actor=None)
        wave.template_version_id = template_version_for(templates["nps"]).id
        db.session.flush()
        n = len(scores)
        contact_ids = db.session.scalars(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [{"customer_id": customer.id, "email": f"k{i}@{customer.external_id}.test",
              "language": language} for i in range(n)],
        ).all()  # fmt: skip
        invitation_ids = db.session.scalars(
            insert(Invitation).returning(Invitation.id, sort_by_parameter_order=True),
            [{"wave_id": wave.id, "contact_id": contact_id, "customer_id": customer.id,
              "token": f"{customer.external_id}-{i}", "language": language, "state": "answered"}
             for i, contact_id in enumerate(contact_ids)],
        ).all()  # fmt: skip
        comments = comments or [""] * n
        ids = db.session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True),
            [{"invitation_id": invitation_id, "wave_id": wave.id, "customer_id": customer.id,
              "template_version_id": wave.template_version_id, "score": score,
              "comment": comment, "language": language, "answered_at": ANSWERED,
              "updated_at": ANSWERED}
             for invitation_id, score, comment in zip(invitation_ids, scores, comments,
                                                      strict=True)],
        ).all()  # fmt: skip
        db.session.commit()
        return ids

    return factory


def _statements(app, work) -> int:
    """How many statements `work()` sends to the database."""
    sent = []

    def count(*_args):
        sent.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_a_batch_of_new_matching_content_and_decided_answers(many, create_user):
    complaint = "Leveringen var forsinket igen, og ingen svarer."
    ids = many([2, 9, 8, 8, 5, 10], comments=["", "", complaint, "Fint.", "", ""])
    route_responses(RULES, ids[:2], now=NOW)  # decided before: one case, one content
    db.session.commit()
    report = route_responses(RULES, ids, now=NOW)
    db.session.commit()
    assert (report.decided, report.cases) == (4, 2)
    assert report.by_rule == {"passive_negative_comment": 1, "cd_grow_detractor": 1}
    assert [_case(i) is not None for i in ids] == [True, False, True, False, True, False]
    assert _count(RoutingDecision) == 6 and _count(Case) == 3 and _count(CaseEvent) == 3
    event = db.session.scalar(select(CaseEvent).join(Case).where(Case.response_id == ids[2]))
    assert event.kind == "created"
    assert event.detail == (
        "Rule passive_negative_comment (passive, class C): Look into the complaint in the comment"
    )
    decision = db.session.get(RoutingDecision, ids[3])  # a passive without a complaint
    assert decision.rule_key is None
    assert decision.reason.endswith("passive_negative_comment: no, comment sentiment is "
                                    "positive, not negative")  # fmt: skip


def test_cases_to_one_team_and_one_user_resolve_each_once(app, many, create_user, tmp_path):
    agent = create_user("agent@nordlys.example.com", team="Claims")
    rules_file = tmp_path / "routing.yaml"
    rules_file.write_text(
        "default_queue: Customer support\n"
        "rules:\n"
        "  - {key: detractor, title: Call, when: {band: detractor}, priority: high, due: 1d,\n"
        "     assign: 'user:AGENT@nordlys.example.com'}\n"
        "  - {key: passive, title: Look, when: {band: passive}, priority: low, due: 3d,\n"
        "     assign: 'user:gone@nordlys.example.com', fallback: 'team:Quality'}\n"
    )
    rules = load_rules(rules_file)
    few = many([1, 7])
    lots = many([1, 7] * 15)
    ensure_teams(rules)  # as route_pending does; else the first call also creates "Quality"
    db.session.commit()
    assert _statements(app, lambda: route_responses(rules, few, now=NOW)) == _statements(
        app, lambda: route_responses(rules, lots, now=NOW)
    )  # as many statements for 30 answers as for 2: nothing runs per response
    db.session.commit()
    rows = db.session.execute(select(Case.rule_key, Case.assignee_id, Case.team_id)).all()
    quality = db.session.scalar(select(Team.id).where(Team.name == "Quality"))
    assert sorted(set(rows)) == [("detractor", agent.id, agent.team_id),
                                 ("passive", None, quality)]  # fmt: skip
    assert len(rows) == 32


def test_more_rows_than_one_statement_takes(many, is_postgres):
    scores = [n % 11 for n in range(1234)]  # 0-6 detractors (case), 7-8 and 9-10 none
    ids = many(scores, abc_class="D", programme="retain")
    report = route_responses(RULES, ids, now=NOW)
    db.session.commit()
    detractors = sum(score <= 6 for score in scores)
    assert (report.decided, report.cases) == (1234, detractors)
    assert report.by_rule == {"cd_retain_detractor": detractors}
    assert _count(RoutingDecision) == 1234 and _count(CaseEvent) == detractors
    cased = set(db.session.scalars(select(Case.response_id)))
    assert cased == {i for i, score in zip(ids, scores, strict=True) if score <= 6}
    again = route_responses(RULES, ids, now=NOW)
    assert (again.decided, again.cases) == (0, 0)


def test_two_jobs_racing_over_large_batches_make_one_case_each(app, many, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite has one writer at a time; the race is real on PostgreSQL")
    ids = many([n % 7 for n in range(600)])  # all detractors: 600 cases
    barrier, errors, reports = threading.Barrier(2), [], []

    def job(limit):
        with app.app_context():
            try:
                barrier.wait()
                reports.append(route_pending(RULES, now=NOW, limit=limit))
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=job, args=(limit,)) for limit in (200, 150)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.remove()
    assert sum(r.decided for r in reports) == sum(r.cases for r in reports) == len(ids)
    assert _count(Case) == _count(RoutingDecision) == _count(CaseEvent) == len(ids)


def test_comments_are_analysed_only_where_they_can_change_the_match():
    """The shortcut in _judged gives exactly first_match on fully analysed facts, reasons
    included, for every combination of facts, whatever the position of comment rules."""
    when = Conditions
    extra = (
        Rule("early_negative", "t", when(sentiments=("negative",), classes=("A",)), "owner",
             None, "high", timedelta(days=1)),
        Rule("late_theme", "t", when(bands=("promoter",), themes=("price",),
                                     languages=("da",), csi_below=90), "owner", None,
             "low", timedelta(days=1)),
        Rule("grow_positive", "t", when(programmes=("grow",), sentiments=("positive",)),
             "owner", None, "low", timedelta(days=1)),
    )  # fmt: skip
    rule_sets = [
        RULES,
        replace(RULES, rules=(extra[0], *RULES.rules, extra[1])),
        replace(RULES, rules=(RULES.rules[0], extra[2], *RULES.rules[1:], extra[1])),
    ]
    combinations = itertools.product(
        (None, 0, 7, 9),
        (None, 50.0, 70.0, 95.0),
        ("A", "C", None),
        ("grow", "retain", None),
        ("negative", "neutral", "positive"),
        ((), ("price",), ("delivery", "price")),
        ("da", "en"),
    )
    checked = 0
    for score, csi, abc, programme, sentiment, themes, language in combinations:
        full = Facts(score, csi, abc, programme, sentiment, themes, language)
        blind = replace(full, sentiment=None, themes=())
        for rules in rule_sets:
            match = first_match(rules, blind)
            if _comment_matters(rules, blind, match):
                match = first_match(rules, full)
            assert match == first_match(rules, full), (full, rules.rules[0].key)
            checked += 1
    assert checked == 4 * 4 * 3 * 3 * 3 * 3 * 2 * 3


# command line ----------------------------------------------------------------------------


def test_explain_and_simulate_write_nothing(runner, answer):
    response_id = answer(3, "C", "retain", comment="Leveringen var forsinket.", language="da")
    result = runner.invoke(args=["routing", "explain", str(response_id)])
    assert result.exit_code == 0, result.output
    assert "band detractor, class C, programme retain, comment negative (delivery)" in result.output
    assert "  cd_grow_detractor: no, programme is retain, not grow" in result.output
    assert "Result: cd_retain_detractor" in result.output
    wave_id = db.session.get(Response, response_id).wave_id
    simulated = runner.invoke(args=["routing", "simulate", "--wave", str(wave_id)])
    assert simulated.exit_code == 0, simulated.output
    assert "cd_retain_detractor" in simulated.output and "1 answers in wave" in simulated.output
    assert _count(Case) == 0 and _count(RoutingDecision) == 0


def test_routing_cli_bad_input(runner, make_app, tmp_path):
    assert runner.invoke(args=["routing", "explain", "999999"]).exit_code == 1
    assert runner.invoke(args=["routing", "explain", "abc"]).exit_code == 2
    assert runner.invoke(args=["routing", "simulate", "--wave", "999999"]).exit_code == 1
    assert "6 rules OK" in runner.invoke(args=["routing", "check"]).output
    bad = tmp_path / "routing.yaml"
    bad.write_text("rules: []\n")
    other = make_app(FEEDBACK_ROUTING_FILE=str(bad))
    with other.app_context():  # commands run in the current app context: make it this app's
        result = other.test_cli_runner().invoke(args=["routing", "check"])
    assert result.exit_code == 1
    assert "routing.yaml: rules: a list of at least one rule is required" in result.output


def test_cases_list_as_json(runner, answer, create_user):
    owner = create_user("eva@nordlys.example.com", team="Key accounts")
    answer(1, "A", owner=owner)
    answer(4, "D", "retain")
    result = runner.invoke(args=["jobs", "run", "route_answers"])
    assert "2 cases created" in result.output, result.output
    listed = runner.invoke(args=["cases", "list", "--json"])
    import json

    cases = json.loads(listed.output)
    assert [(c["rule"], c["assignee_email"], c["team"]) for c in cases] == [
        ("a_detractor", "eva@nordlys.example.com", "Key accounts"),
        ("cd_retain_detractor", None, "Customer support"),
    ]
    assert set(cases[0]) >= {"id", "customer_external_id", "priority", "status", "due_at"}
    assert cases[0]["due_at"].endswith("+00:00")
    mine = runner.invoke(args=["cases", "list", "--assignee", "EVA@nordlys.example.com"])
    assert "1 cases" in mine.output
    assert runner.invoke(args=["cases", "list", "--assignee", "nobody@x.dk"]).exit_code == 1
    assert runner.invoke(args=["cases", "list", "--status", "lost"]).exit_code == 2
