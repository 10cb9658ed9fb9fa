"""The At-risk page: who sees whom, ranking, filters, odd input, escaping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.risk.models import ChurnRun, ChurnScore


@pytest.fixture
def scored(create_customer, create_user):
    """Four scored customers: two owned by Nora (team North), one by Sven (team South), one
    without owner; revenue at risk 800, 300, 500, 200."""
    nora = create_user(email="nora@example.com", name="Nora North", team="North")
    sven = create_user(email="sven@example.com", name="Sven South", team="South")
    segments = SegmentRun(as_of=date.today(), thresholds="50,30,15", base_currency="EUR")
    run = ChurnRun(as_of=date.today(), horizon_days=180, model="default",
                   fit={"why_default": "short"})  # fmt: skip
    db.session.add_all([segments, run])
    db.session.flush()
    specs = [
        ("R-1", "Nordlys <b>Stål</b> A/S", nora, "A", 80, 1000, ",recency,silence,",
         ["no order for 94 days, usually every 21", "did not answer the last 2 surveys"]),
        ("R-2", "Bergen Bolt AS", nora, "B", 30, 1000, ",detractor,",
         ["scored 4 in January 2026, 8 in June 2025"]),
        ("R-3", "Malmö Maskin AB", sven, "A", 50, 1000, ",orders_season,",
         ["orders −60 % against the same quarter last year (2 against 5)"]),
        ("R-4", "Tampere Tools Oy", None, "C", 20, 1000, "", []),
    ]  # fmt: skip
    customers = {}
    for rank, (ext, name, owner, klass, risk, revenue, keys, reasons) in enumerate(specs, 1):
        customer = create_customer(external_id=ext, name=name, owner=owner)
        db.session.add(CustomerSegment(run_id=segments.id, customer_id=customer.id,
                                       revenue_12m=Decimal(revenue), abc_class=klass,
                                       programme="grow", rank=rank))  # fmt: skip
        db.session.add(ChurnScore(run_id=run.id, customer_id=customer.id, risk=risk,
                                  reasons=reasons, reason_keys=keys,
                                  revenue_12m=Decimal(revenue),
                                  revenue_at_risk=Decimal(revenue * risk / 100)))  # fmt: skip
        customers[ext] = customer
    db.session.commit()
    return customers


def _names(html: str) -> list[str]:
    import re

    return re.findall(r'class="customer-number muted">([^<]+)<', html)


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get("/at-risk")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"] and "next=" in response.headers["Location"]


def test_managers_see_everyone_ranked_by_revenue_at_risk(client, login_as, scored):
    login_as("manager")
    html = client.get("/at-risk").get_data(as_text=True)
    assert _names(html) == ["R-1", "R-3", "R-2", "R-4"]
    assert "no order for 94 days, usually every 21" in html
    assert "Nordlys &lt;b&gt;Stål&lt;/b&gt; A/S" in html and "<b>Stål</b>" not in html
    assert "default weights" in html


def test_agents_see_their_own_and_their_teams_customers_only(client, login_as, scored):
    login_as("agent", team="North")  # Nora's team, not her
    assert _names(client.get("/at-risk").get_data(as_text=True)) == ["R-1", "R-2"]
    client.post("/logout")


def test_an_agent_without_team_sees_only_their_own(client, login, scored):
    login("sven@example.com")
    assert _names(client.get("/at-risk").get_data(as_text=True)) == ["R-3"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?class=A", ["R-1", "R-3"]),
        ("?reason=detractor", ["R-2"]),
        ("?owner=none", ["R-4"]),
        ("?class=A&reason=silence", ["R-1"]),
        ("?programme=retain", []),
    ],
)
def test_filters(client, login_as, scored, query, expected):
    login_as("manager")
    assert _names(client.get("/at-risk" + query).get_data(as_text=True)) == expected


def test_odd_filters_are_named_and_ignored_never_an_error(client, login_as, scored):
    login_as("admin")
    response = client.get("/at-risk?class=Z&reason=%00bad&owner=x1&programme=maybe&page=-4")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ignored class “Z”, programme “maybe”, owner “x1”, reason" in html
    assert _names(html) == ["R-1", "R-3", "R-2", "R-4"]


def test_before_the_first_run_the_page_says_how_to_get_one(client, login_as):
    login_as("manager")
    html = client.get("/at-risk").get_data(as_text=True)
    assert "No churn scores yet" in html


def test_the_customer_page_shows_risk_over_time_and_answers_per_wave(client, login_as, scored):
    from datetime import timedelta

    from feedback.customers.models import Contact
    from tests.support.history import survey_wave

    customer = scored["R-1"]
    earlier = ChurnRun(as_of=date.today() - timedelta(days=7), horizon_days=180, model="default")
    db.session.add(earlier)
    db.session.flush()
    db.session.add(ChurnScore(run_id=earlier.id, customer_id=customer.id, risk=41, reasons=[],
                              reason_keys="", revenue_12m=Decimal(1000),
                              revenue_at_risk=Decimal(410)))  # fmt: skip
    contact = Contact(customer_id=customer.id, email="kari@nordlys.dk")
    db.session.add(contact)
    db.session.commit()
    survey_wave(date.today() - timedelta(days=200), {contact: 8})
    survey_wave(date.today() - timedelta(days=100), {contact: "delivered"})
    survey_wave(date.today() - timedelta(days=10), {contact: "delivered"})

    login_as("agent")
    html = client.get(f"/customers/{customer.external_id}").get_data(as_text=True)
    assert '<span class="risk risk-high">80 %</span>' in html
    assert "no order for 94 days, usually every 21" in html
    assert "41 %" in html  # last week's run, in the history
    assert "Answered 1 of 3 surveys; the last 2 went unanswered." in html
    assert html.count("No answer") == 2 and "Answered: 8" in html
