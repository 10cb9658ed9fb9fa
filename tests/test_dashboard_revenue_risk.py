"""View 5, revenue at risk: high churn risk and detractors by owner and class, amounts,
shares and the expected loss, on the hand-made facts of the behaviour tests plus churn
scores, and once on facts built from real transactions and answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboards.context import make_context
from dashboards.queries import revenue_risk as Q
from dashboards.views.risk import VIEW, at_risk_url
from feedback.customers.models import Contact
from feedback.extensions import db
from feedback.list_filters import NO_OWNER
from feedback.reporting.build import rebuild
from feedback.reporting.outcomes import rebuild_risk_months
from feedback.risk.models import ChurnRun, ChurnScore
from tests.support.dash_tree import ids, kind, prop, texts, walk
from tests.support.history import orders, survey_wave
from tests.test_dashboard_behaviour import DECEMBER, world  # noqa: F401

TZ = ZoneInfo("Europe/Copenhagen")
RISKS = {"p1": 70, "p2": 10, "a1": 20, "d1": 30, "d2": 90, "o1": 65, "u1": 59}  # n1 unscored


def _run(as_of: date, risks: dict, customers: dict) -> ChurnRun:
    run = ChurnRun(as_of=as_of, horizon_days=180, model="default")
    db.session.add(run)
    db.session.flush()
    for name, risk in risks.items():
        db.session.add(ChurnScore(run_id=run.id, customer_id=customers[name].id, risk=risk,
                                  revenue_12m=Decimal(0), revenue_at_risk=Decimal(0)))  # fmt: skip
    db.session.commit()
    rebuild_risk_months(TZ)  # the view reads the facts' sums per month and run
    db.session.commit()
    return run


@pytest.fixture
def scored(world):  # noqa: F811
    _run(date(2025, 12, 15), RISKS, world)
    _run(date(2026, 1, 5), dict.fromkeys(RISKS, 99), world)  # after the period: ignored
    return world


def report(filters=DECEMBER):
    return Q.revenue_risk(db.session.connection(), filters, tz=TZ)


def test_amounts_by_kind_and_totals(scored):
    r = report()
    assert r.run.as_of == date(2025, 12, 15) and r.month == date(2025, 12, 1)
    t = r.total
    # both: d2 (50); high risk only: p1 (1000), o1 (100); detractor only: d1 (200)
    assert {k: (t.count(k), t.amount(k)) for k in Q.KINDS} == {
        "both": (1, 50), "high risk only": (2, 1100), "detractor only": (1, 200)}  # fmt: skip
    assert (t.customers, t.revenue, t.at_risk_customers, t.at_risk) == (8, 5850, 4, 1350)
    assert t.share_of_revenue.value == pytest.approx(100 * 1350 / 5850)
    assert t.share_of_customers.value == 50 and t.share_of_customers.n == 8
    # u1's 59 is below the line; the expected loss counts every scored customer
    assert t.scored == 7
    assert t.expected_loss == pytest.approx((70 * 1000 + 10 * 3000 + 20 * 500 + 30 * 200
                                             + 90 * 50 + 65 * 100 + 59 * 600) / 100)  # fmt: skip


def test_by_owner_and_class(scored):
    r = report()
    alice, bob = scored["alice"], scored["bob"]
    assert [(o.key, o.label, o.at_risk_customers, o.at_risk) for o in r.owners] == [
        (alice.id, "Alice", 3, 1150), (bob.id, "Bob", 1, 200), (NO_OWNER, "No owner", 0, 0),
    ]  # fmt: skip
    assert [(c.key, c.at_risk, c.customers) for c in r.classes] == [
        ("A", 1050, 4), ("B", 300, 3), ("none", 0, 1),
    ]  # fmt: skip


@pytest.mark.parametrize("change, at_risk", [
    ({"classes": ("B",)}, 300),
    ({"programme": "grow"}, 1000),
    ({"language": "da"}, 1050),
    ({"owner": NO_OWNER}, 0),
    ({"survey": "nps", "wave": 12345}, 1350),  # do not apply
])  # fmt: skip
def test_filters(scored, change, at_risk):
    assert report(DECEMBER.but(**change)).total.at_risk == at_risk


def test_owner_and_team_filters(scored):
    assert report(DECEMBER.but(owner=scored["alice"].id)).total.at_risk == 1150
    assert report(DECEMBER.but(team=scored["bob"].team_id)).total.at_risk == 200


def test_without_a_churn_run_only_detractors(scored):
    r = report(DECEMBER.but(end=date(2025, 12, 10)))  # before the first run, same month
    assert r.run is None
    assert {k: r.total.count(k) for k in Q.KINDS} == {"both": 0, "high risk only": 0,
                                                      "detractor only": 2}  # fmt: skip
    assert r.total.at_risk == 250 and r.total.expected_loss == 0
    text = texts(VIEW.render(make_context(DECEMBER.but(end=date(2025, 12, 10)))))
    assert "feedback churn recompute" in text and "no churn run yet" in text


def test_at_risk_links_carry_the_filters(scored, login_as, client):
    f = DECEMBER.but(classes=("A", "B"), programme="grow")
    assert at_risk_url(f) == "/at-risk?class=A&class=B&programme=grow"
    assert at_risk_url(f, owner=7) == "/at-risk?class=A&class=B&programme=grow&owner=7"
    assert at_risk_url(DECEMBER, owner=NO_OWNER) == "/at-risk?owner=none"
    login_as("manager")
    page = client.get(at_risk_url(f, owner=scored["alice"].id))
    assert page.status_code == 200 and "Ignored" not in page.get_data(as_text=True)


def test_render_and_table(scored):
    ctx = make_context(DECEMBER)
    body = VIEW.render(ctx)
    assert {"risk-owners", "risk-classes"} <= ids(body)
    links = {prop(c, "children"): prop(c, "href") for c in walk(body) if kind(c) == "A"}
    assert links["Open the At-risk list"] == "/at-risk"
    assert links["Alice"] == f"/at-risk?owner={scored['alice'].id}"
    assert links["No owner"] == "/at-risk?owner=none"
    text = texts(body)
    assert "As of December 2025, churn risk as of 15 Dec 2025." in text
    assert "Expected loss" in text and "too few" in text
    columns, rows = VIEW.table(ctx)
    first = dict(zip(columns, rows[0], strict=True))
    assert (first["customers"], first["at_risk_customers"], first["at_risk_revenue"]) == (
        8, 4, 1350)  # fmt: skip
    assert [r[1] for r in rows if r[0] == "owner"] == ["Alice", "Bob", "No owner"]
    assert all(len(r) == len(columns) for r in rows)


def test_no_data_gives_a_clear_note():
    ctx = make_context(DECEMBER)
    assert "feedback reporting rebuild" in texts(VIEW.render(ctx))
    columns, rows = VIEW.table(ctx)
    assert rows[0][columns.index("customers")] == 0


def test_on_facts_built_from_transactions_and_answers(create_customer):
    c = {name: create_customer(external_id=name, name=name) for name in ("det", "calm")}
    orders(c["det"], [date(2025, 4, 1)], amount=800)
    orders(c["calm"], [date(2025, 5, 1)], amount=2000)
    contacts = {n: Contact(customer_id=x.id, email=f"{n}@x.test") for n, x in c.items()}
    db.session.add_all(contacts.values())
    db.session.commit()
    survey_wave(date(2025, 6, 10), {contacts["det"]: 2, contacts["calm"]: 8})
    rebuild(through=date(2025, 12, 1), base_currency="EUR", tz=TZ, nps_template_keys=["nps"])
    _run(date(2025, 12, 1), {"det": 20, "calm": 75}, c)
    t = report().total
    assert t.amount("detractor only") == 800 and t.amount("high risk only") == 2000
    assert t.at_risk == 2800
    assert t.expected_loss == pytest.approx(0.2 * 800 + 0.75 * 2000)
