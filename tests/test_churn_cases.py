"""High churn risk at A and B customers becomes one case for the owner, with its reasons."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.risk.cases import open_churn_cases
from feedback.risk.models import ChurnRun, ChurnScore
from feedback.routing.rules import RuleError, load_rules

RULES = """
default_queue: Customer support
rules:
  - key: a_detractor
    title: Call
    when: {band: detractor}
    assign: owner
    due: 24h
  - key: a_churn
    kind: churn_risk
    title: Call the customer – high churn risk
    when: {risk_from: 70, class: [A]}
    assign: owner
    fallback: team:Key accounts
    priority: high
    due: 5d
  - key: b_churn
    kind: churn_risk
    title: Check on the customer – churn risk
    when: {risk_from: 60, class: [B]}
    assign: team:Internal sales
    due: 10d
"""


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(RULES, encoding="utf-8")
    return load_rules(path)


def _scored(create_customer, create_user, rows):
    """rows: (class, risk, has owner) -> customers scored in one run as of today."""
    segments = SegmentRun(as_of=date.today(), thresholds="50,30,15", base_currency="EUR")
    run = ChurnRun(as_of=date.today(), horizon_days=180, model="default")
    db.session.add_all([segments, run])
    db.session.flush()
    owner = create_user(email="ejer@firma.dk")
    customers = []
    for rank, (klass, risk, owned) in enumerate(rows, start=1):
        customer = create_customer(owner=owner if owned else None)
        db.session.add(CustomerSegment(run_id=segments.id, customer_id=customer.id,
                                       revenue_12m=Decimal(1000), abc_class=klass,
                                       programme="grow", rank=rank))  # fmt: skip
        db.session.add(ChurnScore(run_id=run.id, customer_id=customer.id, risk=risk,
                                  reasons=["no order for 94 days, usually every 21"],
                                  reason_keys=",recency,", revenue_12m=Decimal(1000),
                                  revenue_at_risk=Decimal(10 * risk)))  # fmt: skip
        customers.append(customer)
    db.session.commit()
    return run, owner, customers


def test_high_risk_opens_one_case_per_customer_with_its_reasons(
    rules, create_customer, create_user
):
    run, owner, (a_high, a_low, b_high, c_high, a_ownerless) = _scored(
        create_customer, create_user,
        [("A", 85, True), ("A", 65, True), ("B", 61, True), ("C", 99, True), ("A", 90, False)],
    )  # fmt: skip
    now = utcnow()
    assert open_churn_cases(rules, run, now=now) == 3
    db.session.commit()
    cases = {c.customer_id: c for c in db.session.scalars(select(Case))}
    assert set(cases) == {a_high.id, b_high.id, a_ownerless.id}
    assert (cases[a_high.id].assignee_id, cases[a_high.id].kind) == (owner.id, "churn_risk")
    assert cases[a_high.id].due_at == now + timedelta(days=5)
    assert cases[b_high.id].team.name == "Internal sales"
    assert cases[a_ownerless.id].team.name == "Key accounts"  # the fallback
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == cases[a_high.id].id))
    assert event.detail == (
        f"Rule a_churn (churn risk 85 % as of {date.today().isoformat()}, class A): "
        "no order for 94 days, usually every 21"
    )

    # The next run (or the same one again) opens nothing while those cases are open...
    assert open_churn_cases(rules, run, now=now + timedelta(days=7)) == 0
    # ...nor for 30 days after one is closed; after that a still-high risk opens a new one.
    case = cases[a_high.id]
    case.status, case.closed_at, case.outcome = "resolved", now + timedelta(days=8), "Called"
    db.session.commit()
    assert open_churn_cases(rules, run, now=now + timedelta(days=20)) == 0
    assert open_churn_cases(rules, run, now=now + timedelta(days=40)) == 1
    assert db.session.query(Case).filter_by(customer_id=a_high.id).count() == 2


def test_the_database_refuses_a_second_open_churn_case(create_customer, create_user):
    from sqlalchemy.exc import IntegrityError

    customer = create_customer()
    user = create_user()
    for _ in range(2):
        db.session.add(Case(customer_id=customer.id, rule_key="x", kind="churn_risk",
                            title="Call", assignee_id=user.id, priority="high",
                            due_at=utcnow()))  # fmt: skip
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("{key: c, kind: churn_risk, title: T, when: {class: [A]}, assign: owner, due: 5d}",
         "rules[1].when.risk_from: a churn risk from 1 to 100 is required"),
        ("{key: c, kind: churn_risk, title: T, when: {risk_from: 60, band: detractor}, "
         "assign: owner, due: 5d}", "rules[1].when.band: unknown condition"),
        ("{key: c, kind: churn, title: T, when: {}, assign: owner, due: 5d}",
         "rules[1].kind: one of answer, churn_risk"),
        ("{key: c, title: T, when: {risk_from: 60}, assign: owner, due: 5d}",
         "rules[1].when.risk_from: unknown condition"),
        ("{key: c, kind: churn_risk, title: T, when: {risk_from: 60}, assign: owner, due: 5d, "
         "acknowledge: true}", "rules[1].acknowledge: only for answers"),
    ],
)  # fmt: skip
def test_bad_churn_rules_are_named(tmp_path, rule, problem):
    path = tmp_path / "routing.yaml"
    path.write_text(f"default_queue: Support\nrules:\n  - {rule}\n", encoding="utf-8")
    with pytest.raises(RuleError) as error:
        load_rules(path)
    assert any(problem in p for p in error.value.problems), error.value.problems


def test_recompute_as_of_today_routes_a_past_date_does_not(runner, create_customer):
    from feedback.risk.cli import churn_cli

    result = runner.invoke(churn_cli, ["recompute"])
    assert result.exit_code == 0, result.output
    assert "0 churn cases opened by the churn_risk rules." in result.output
    result = runner.invoke(churn_cli, ["recompute", "--as-of", "2026-01-01"])
    assert "No churn cases opened: the run is not as of today." in result.output


def test_the_case_page_shows_why_the_customer_may_be_leaving(
    rules, client, login_as, create_customer, create_user
):
    run, owner, (customer,) = _scored(create_customer, create_user, [("A", 85, True)])
    open_churn_cases(rules, run, now=utcnow())
    db.session.commit()
    case = db.session.scalar(select(Case))
    login_as("manager")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Why this customer may be leaving" in html
    assert "<strong>85 %</strong> chance of no order in the next 180 days" in html
    assert "no order for 94 days, usually every 21" in html
