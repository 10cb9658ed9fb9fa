"""Churn risk: each reason on a hand-made history, seasonality, no leakage, the backtest."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from feedback.customers.models import Contact
from feedback.extensions import db
from feedback.risk import churn
from feedback.risk.models import ChurnRun
from tests.support.history import every, orders, survey_wave

AS_OF = date(2026, 2, 15)
START = date(2024, 1, 1)


def _score(as_of=AS_OF):
    scored = churn.score_as_of(as_of, horizon_days=180, base_currency="EUR",
                               nps_template_keys=["nps"])  # fmt: skip
    reasons = churn.reasons_for(scored)
    ids = scored.snapshot.customer_ids.tolist()
    return {
        cid: (round(float(scored.probability[j]) * 100), reasons[j]) for j, cid in enumerate(ids)
    }


def _contact(customer):
    contact = Contact(customer_id=customer.id, email=f"{customer.external_id}@x.test")
    db.session.add(contact)
    db.session.commit()
    return contact


@pytest.fixture
def history(create_customer):
    c = {name: create_customer(name=name) for name in
         ("steady", "lapsed", "fading", "silent", "soured", "credits", "spring")}  # fmt: skip
    orders(c["steady"], every(START, AS_OF, 14))
    orders(c["lapsed"], [AS_OF - timedelta(days=94 + 21 * k) for k in range(30)])
    # Fading: every 2 weeks until last year's quarter, then monthly-ish (5 -> 2 orders).
    orders(c["fading"], every(START, AS_OF - timedelta(days=91), 18))
    orders(c["fading"], [AS_OF - timedelta(days=60), AS_OF - timedelta(days=10)])
    orders(c["silent"], every(START, AS_OF, 14))
    orders(c["soured"], every(START, AS_OF, 14))
    orders(c["credits"], every(START, AS_OF, 14))
    orders(c["credits"], every(AS_OF - timedelta(days=300), AS_OF, 30), amount=-800)
    # Buys only in spring (March-May), every year: in February it is between seasons.
    for year in (2024, 2025):
        orders(c["spring"], every(date(year, 3, 1), date(year, 5, 31), 10))
    contacts = {name: _contact(customer) for name, customer in c.items()}
    s, q, st = contacts["silent"], contacts["soured"], contacts["steady"]
    survey_wave(date(2025, 1, 20), {s: 8, q: 8, st: 9})
    survey_wave(date(2025, 6, 20), {s: 9, q: 8, st: 9})
    survey_wave(date(2025, 10, 1), {s: "delivered", q: 7, st: 9})
    survey_wave(date(2026, 1, 25), {s: "delivered", q: 4, st: 10})
    return c


def test_each_reason_is_said_in_words(history):
    scores = _score()
    by_name = {name: scores[customer.id] for name, customer in history.items()}
    assert by_name["lapsed"][1][0] == "no order for 94 days, usually every 21"
    assert any(r.startswith("orders −60 % against the same quarter last year")
               for r in by_name["fading"][1])  # fmt: skip
    assert "did not answer the last 2 surveys" in by_name["silent"][1]
    assert "scored 4 in January 2026, 8 in June 2025" in by_name["soured"][1]
    assert any(r.startswith("credits are") for r in by_name["credits"][1])
    assert by_name["steady"][1] == []
    for name in ("lapsed", "fading", "silent", "soured", "credits"):
        assert by_name[name][0] > by_name["steady"][0], name


def test_a_spring_buyer_in_february_is_not_high_risk(history):
    scores = _score()
    risk, reasons = scores[history["spring"].id]
    assert risk < 25 and not any("no order" in r for r in reasons), (risk, reasons)
    assert risk < scores[history["lapsed"].id][0]


def _fitted_population(create_customer, count=240):
    """A history long enough to fit on: monthly buyers, a third of whom stop between November
    2024 and August 2025, the stoppers mostly detractors."""
    from feedback.customers.models import Customer, Transaction

    rows, contacts, waves = [], {}, {}
    customers = [Customer(external_id=f"P{n:04d}", name=f"P {n}") for n in range(count)]
    db.session.add_all(customers)
    db.session.flush()
    for n, customer in enumerate(customers):
        stops = date(2024, 11, 1) + timedelta(days=7 * (n % 40)) if n % 3 == 0 else None
        day = START + timedelta(days=n % 28)
        while day <= AS_OF and (stops is None or day < stops):
            rows.append({"customer_id": customer.id, "date": day, "amount": 500 + n,
                         "currency": "EUR", "kind": "order",
                         "fingerprint": f"p{n}-{day}"})  # fmt: skip
            day += timedelta(days=30)
        contacts[customer.id] = Contact(customer_id=customer.id, email=f"p{n}@x.test")
    db.session.execute(Transaction.__table__.insert(), rows)
    db.session.add_all(contacts.values())
    db.session.commit()
    for closed_on in (date(2024, 9, 1), date(2025, 1, 15)):
        waves[closed_on] = survey_wave(closed_on, {
            contact: (3 if n % 3 == 0 and n % 4 else 9) if n % 2 else "delivered"
            for n, contact in enumerate(contacts.values())
        })  # fmt: skip
    return customers, list(contacts.values())


def test_nothing_after_the_as_of_date_changes_its_scores(create_customer, history):
    """Fitted model and default alike: orders, answers, wave outcomes and cases dated after
    the as-of date leave its scores, reasons and weights exactly as they were."""
    from feedback.cases.models import Case

    _, contacts = _fitted_population(create_customer)
    as_of = date(2025, 9, 30)
    before = churn.score_as_of(as_of, horizon_days=180, base_currency="EUR",
                               nps_template_keys=["nps"])  # fmt: skip
    assert before.model_kind == "fitted"
    reasons_before = churn.reasons_for(before)

    later = as_of + timedelta(days=1)
    for customer in history.values():
        orders(customer, [later, later + timedelta(days=40)], amount=99999)
        orders(customer, [later + timedelta(days=3)], amount=-5000)
    survey_wave(later + timedelta(days=20), {c: 0 for c in contacts[:100]})
    survey_wave(later + timedelta(days=50), {c: "delivered" for c in contacts[100:]})
    db.session.add(Case(customer_id=history["steady"].id, rule_key="x", title="Call",
                        priority="high", team_id=None, assignee_id=None, due_at=None))  # fmt: skip
    db.session.rollback()  # (a case needs an assignee; the history above is what matters)

    after = churn.score_as_of(as_of, horizon_days=180, base_currency="EUR",
                              nps_template_keys=["nps"])  # fmt: skip
    assert after.snapshot.customer_ids.tolist() == before.snapshot.customer_ids.tolist()
    assert after.probability.tolist() == before.probability.tolist()
    assert churn.reasons_for(after) == reasons_before
    assert after.model.as_json() == before.model.as_json()


def test_backtest_on_a_small_fixed_history(create_customer):
    """Ten fortnightly buyers; the three detractors stop after the date. NPS alone finds
    them (AUC 1, lift 1 / 0.3); recency and non-response cannot tell anyone apart."""
    as_of = date(2025, 6, 1)
    customers = [create_customer() for _ in range(10)]
    contacts = {}
    for n, customer in enumerate(customers):
        last = as_of if n >= 3 else as_of
        orders(customer, [last - timedelta(days=14 * k) for k in range(40)])
        if n >= 3:
            orders(customer, every(as_of + timedelta(days=14), as_of + timedelta(days=90), 14))
        contacts[customer] = _contact(customer)
    survey_wave(date(2025, 4, 1), {c: 3 if n < 3 else 9 + n % 2
                                   for n, c in enumerate(contacts.values())})  # fmt: skip

    result = churn.backtest(as_of, horizon_days=90, base_currency="EUR",
                            nps_template_keys=["nps"], today=date(2026, 1, 1))  # fmt: skip
    assert (result["customers"], result["churned"], result["model"]) == (10, 3, "default")
    assert result["auc"] == {"combined": 1.0, "nps": 1.0, "non_response": 0.5,
                             "recency": 0.5, "behaviour": 0.5}  # fmt: skip
    assert result["lift_top_decile"]["nps"] == pytest.approx(3.333, abs=0.001)
    # With three churners in ten, chance-level signals get a wide interval, a perfect one none.
    assert result["auc_ci95"]["nps"] == [1.0, 1.0]
    assert result["auc_ci95"]["recency"] == pytest.approx([0.091, 0.909], abs=0.002)
    assert result["lift_top_decile"]["recency"] == 1.0

    with pytest.raises(churn.DomainError, match="after today"):
        churn.backtest(as_of, horizon_days=90, base_currency="EUR", nps_template_keys=["nps"],
                       today=date(2025, 7, 1))  # fmt: skip


def _cli(runner, *args):
    from feedback.risk.cli import churn_cli

    return runner.invoke(churn_cli, list(args))


def test_recompute_and_list_store_dated_scores_highest_risk_first(runner, history, create_user):
    owner = create_user(email="ejer@firma.dk")
    history["lapsed"].owner = owner
    db.session.commit()
    result = _cli(runner, "recompute", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    assert "7 active customers scored; model default weights" in result.output

    listed = _cli(runner, "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["risk"] for r in rows] == sorted((r["risk"] for r in rows), reverse=True)
    top = rows[0]
    assert set(top) >= {"customer_external_id", "risk", "reasons", "revenue_12m",
                        "revenue_at_risk", "owner_email"}  # fmt: skip
    assert (top["customer_external_id"], top["owner_email"]) == (history["lapsed"].external_id,
                                                                  "ejer@firma.dk")  # fmt: skip
    assert top["reasons"][0] == "no order for 94 days, usually every 21"
    assert float(top["revenue_at_risk"]) == pytest.approx(
        float(top["revenue_12m"]) * top["risk"] / 100, abs=0.01
    )
    # Recomputing the same day replaces the run; a later run leaves the earlier one.
    assert _cli(runner, "recompute", "--as-of", AS_OF.isoformat()).exit_code == 0
    assert _cli(runner, "recompute", "--as-of", "2026-03-01").exit_code == 0
    assert db.session.query(ChurnRun).count() == 2
    earlier = json.loads(_cli(runner, "list", "--as-of", "2026-02-20", "--json").output)
    assert earlier == rows

    shown = runner.invoke(args=["customers", "show", history["silent"].external_id, "--json"])
    summary = json.loads(shown.output)
    assert {k: summary[k] for k in ("waves_invited", "waves_answered",
                                    "consecutive_non_responses", "last_score")} == {
        "waves_invited": 4, "waves_answered": 2, "consecutive_non_responses": 2, "last_score": 9,
    }  # fmt: skip
    assert isinstance(summary["churn_risk"], int)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list"], "no churn scores; run `feedback churn recompute` first"),
        (["recompute", "--as-of", "2999-01-01"], "--as-of cannot be in the future"),
        (["recompute", "--horizon-days", "5"], "between 30 and 365 days"),
        (["recompute", "--as-of", "15.02.2026"], "Invalid value for '--as-of'"),
        (["backtest", "--as-of", "2026-11-01", "--horizon-days", "180"], "after today"),
        (["backtest", "--horizon-days", "180"], "Missing option '--as-of'"),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(runner, args, message):
    result = _cli(runner, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert db.session.query(ChurnRun).count() == 0
