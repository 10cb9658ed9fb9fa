"""customer_months: every column on a hand-made history with known answers, refresh against
rebuild, the job's choice, the snapshot query the views read, and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from feedback.customers.models import Contact, CurrencyRate
from feedback.extensions import db
from feedback.reporting import facts_as_of
from feedback.reporting.build import rebuild, rebuild_due, refresh, run_job
from feedback.reporting.models import CustomerMonth, ReportingBuild
from feedback.responses.models import Response
from feedback.surveys.templates import load_templates
from tests.support.history import orders, survey_wave

CPH = ZoneInfo("Europe/Copenhagen")
SETTINGS = {"base_currency": "EUR", "tz": CPH, "nps_template_keys": ["nps"]}
THROUGH = date(2026, 2, 1)
NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)  # "today" for refresh: February 2026
LATE_ANSWER = datetime(2025, 5, 31, 23, 30, tzinfo=UTC)  # 1 June, 01:30 in Copenhagen


def _contact(customer, status="active"):
    contact = Contact(customer_id=customer.id, email=f"{customer.external_id}@x.test",
                      status=status)  # fmt: skip
    db.session.add(contact)
    db.session.commit()
    return contact


@pytest.fixture
def history(create_customer):
    """anna: EUR and DKK, a credit, no orders for 8 months (April-November 2025), an answer
    at 23:30 UTC on 31 May; bo: a non-responder; cy: starts in May 2025 with an answer;
    dora: nothing at all."""
    db.session.add(CurrencyRate(currency="DKK", rate=Decimal("0.134")))
    db.session.commit()
    c = {name: create_customer(name=name) for name in ("anna", "bo", "cy", "dora")}
    orders(c["anna"], [date(2025, 1, 10)], amount=1000)
    orders(c["anna"], [date(2025, 1, 20)], amount=5000, currency="DKK")  # 670.00 EUR
    orders(c["anna"], [date(2025, 2, 5)], amount=-200)  # a credit
    orders(c["anna"], [date(2025, 3, 15)], amount=300)
    orders(c["anna"], [date(2025, 12, 1)], amount=400)
    orders(c["anna"], [date(2026, 1, 31)], amount=100, currency="DKK")  # 13.40 EUR
    orders(c["bo"], [date(2025, 3, 1)], amount=1000)
    orders(c["cy"], [date(2025, 9, 3)], amount=250)
    a, b, y = (_contact(c[name]) for name in ("anna", "bo", "cy"))
    # Waves close at 18:00 UTC; answers come a day after sending, 13 days before the close.
    survey_wave(date(2025, 2, 14), {a: 6, b: "delivered"})  # anna answers on 1 February
    survey_wave(date(2025, 6, 10), {a: 9, b: "delivered", y: 10})  # answers on 28 May
    survey_wave(date(2026, 2, 10), {a: "delivered", b: "bounced"})
    db.session.execute(
        update(Response)
        .where(Response.customer_id == c["anna"].id, Response.score == 9)
        .values(answered_at=LATE_ANSWER)
    )
    db.session.commit()
    return c


def _rows() -> dict:
    """{(customer_id, month): row as a tuple of every column but the keys}."""
    rows = db.session.scalars(select(CustomerMonth)).all()
    return {
        (r.customer_id, r.month): (r.revenue, r.orders, r.revenue_12m, r.revenue_prev_12m,
                                   r.last_order_on, r.nps_score, r.nps_answered_at,
                                   r.waves_12m, r.answered_12m)
        for r in rows
    }  # fmt: skip


def _row(customer, month: date) -> CustomerMonth:
    return db.session.get(CustomerMonth, (month, customer.id))


def test_every_column_on_a_known_history(history):
    result = rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    anna, bo, cy = history["anna"], history["bo"], history["cy"]
    # Rows from each customer's first activity through February 2026; none for dora.
    months = dict(db.session.execute(
        select(CustomerMonth.customer_id, func.count()).group_by(CustomerMonth.customer_id)
    ).all())  # fmt: skip
    assert months == {anna.id: 14, bo.id: 13, cy.id: 10}
    assert result.rows == 37 and result.first == date(2025, 1, 1) and result.through == THROUGH
    first_of_bo = select(func.min(CustomerMonth.month)).where(CustomerMonth.customer_id == bo.id)
    assert db.session.scalar(first_of_bo) == date(2025, 2, 1)  # a wave outcome before an order

    january = _row(anna, date(2025, 1, 1))
    assert (january.revenue, january.orders) == (Decimal("1670.00"), 2)  # DKK at 0.134
    assert january.last_order_on == date(2025, 1, 20)
    assert january.nps_score is None and january.nps_answered_at is None
    assert (january.waves_12m, january.answered_12m) == (0, 0)

    february = _row(anna, date(2025, 2, 1))
    assert (february.revenue, february.orders) == (Decimal("-200.00"), 0)  # the credit
    assert february.last_order_on == date(2025, 1, 20)  # a credit is no order
    assert february.nps_score == 6
    assert february.nps_answered_at == datetime(2025, 2, 1, 9, tzinfo=UTC)
    assert (february.waves_12m, february.answered_12m) == (1, 1)

    # Eight months without orders: the last order is carried, the trailing sum holds.
    november = _row(anna, date(2025, 11, 1))
    assert (november.revenue, november.orders) == (Decimal("0.00"), 0)
    assert november.last_order_on == date(2025, 3, 15)
    assert november.revenue_12m == Decimal("1770.00")
    assert november.revenue_prev_12m == Decimal("0.00")

    # 23:30 UTC on 31 May is June in Copenhagen: May still shows the February answer.
    may, june = _row(anna, date(2025, 5, 1)), _row(anna, date(2025, 6, 1))
    assert (may.nps_score, may.nps_answered_at) == (6, datetime(2025, 2, 1, 9, tzinfo=UTC))
    assert (june.nps_score, june.nps_answered_at) == (9, LATE_ANSWER)
    assert (june.waves_12m, june.answered_12m) == (2, 2)

    january_26 = _row(anna, date(2026, 1, 1))
    assert january_26.revenue == Decimal("13.40")
    assert january_26.revenue_12m == Decimal("513.40")  # Feb 2025-Jan 2026: -200+300+400+13.40
    assert january_26.revenue_prev_12m == Decimal("1670.00")  # Feb 2024-Jan 2025
    last = _row(anna, THROUGH)
    assert (last.revenue, last.revenue_12m, last.revenue_prev_12m) == (
        Decimal("0.00"), Decimal("713.40"), Decimal("1470.00"))  # fmt: skip
    assert last.last_order_on == date(2026, 1, 31)
    assert (last.nps_score, last.waves_12m, last.answered_12m) == (9, 2, 1)

    # bo never answers: a non-responder; the bounced wave of 2026 does not count.
    assert (_row(bo, date(2025, 2, 1)).waves_12m, _row(bo, date(2025, 2, 1)).revenue) == (
        1, Decimal("0.00"))  # fmt: skip
    bo_june, bo_last = _row(bo, date(2025, 6, 1)), _row(bo, THROUGH)
    assert (bo_june.waves_12m, bo_june.answered_12m, bo_june.nps_score) == (2, 0, None)
    assert (bo_last.waves_12m, bo_last.answered_12m) == (1, 0)
    assert bo_last.revenue_12m == Decimal("1000.00") and bo_last.last_order_on == date(2025, 3, 1)

    # cy starts in May with an answer; its wave closes in June.
    cy_may = _row(cy, date(2025, 5, 1))
    assert (cy_may.nps_score, cy_may.waves_12m, cy_may.revenue_12m) == (10, 0, Decimal("0.00"))
    assert (_row(cy, date(2025, 6, 1)).waves_12m, _row(cy, date(2025, 6, 1)).answered_12m) == (1, 1)
    assert _row(cy, date(2025, 9, 1)).orders == 1
    assert _row(cy, THROUGH).revenue_12m == Decimal("250.00")


def test_the_facts_as_of_a_month_band_and_flag_each_customer(history):
    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    names = {c.id: name for name, c in history.items()}
    rows = db.session.execute(facts_as_of(date(2025, 6, 17))).mappings().all()
    got = {names[r["customer_id"]]: (r["nps_band"], r["non_responder"], r["revenue_change_12m"])
           for r in rows}  # fmt: skip
    assert got == {
        "anna": ("promoter", False, Decimal("1770.00")),
        "bo": ("none", True, Decimal("1000.00")),
        "cy": ("promoter", False, Decimal("0.00")),
    }
    may = {names[r["customer_id"]]: r["nps_band"]
           for r in db.session.execute(facts_as_of(date(2025, 5, 1))).mappings()}  # fmt: skip
    assert may == {"anna": "detractor", "bo": "none", "cy": "promoter"}


def test_refresh_after_a_new_order_this_month_equals_a_rebuild(history):
    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    orders(history["bo"], [date(2026, 2, 15)], amount=500)
    orders(history["dora"], [date(2026, 1, 5)], amount=70)  # a new customer, last month
    result = refresh(**SETTINGS, now=NOW)
    db.session.commit()
    assert result.kind == "refresh" and result.reason is None
    assert (result.first, result.through, result.rows) == (date(2026, 1, 1), THROUGH, 8)
    refreshed = _rows()
    assert refreshed[(history["bo"].id, THROUGH)][:3] == (500, 1, Decimal("1500.00"))
    assert refreshed[(history["dora"].id, THROUGH)][2] == Decimal("70.00")

    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    assert refreshed == _rows()


def test_refresh_after_a_month_rolls_over_adds_the_new_month(history):
    rebuild(through=date(2026, 1, 1), **SETTINGS)
    db.session.commit()
    result = refresh(**SETTINGS, now=NOW)
    db.session.commit()
    assert result.kind == "refresh"
    refreshed = _rows()
    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    assert refreshed == _rows()


@pytest.mark.parametrize(
    "change, reason",
    [
        ("old_order", "transactions dated 2025-04-02 arrived"),
        ("rate", "currency rates changed"),
        ("old_answer", "answers given on 2025-07-01 arrived"),
    ],
)
def test_refresh_rebuilds_when_older_months_went_stale(history, change, reason):
    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    if change == "old_order":
        orders(history["cy"], [date(2025, 4, 2)], amount=80)
    elif change == "rate":
        db.session.get(CurrencyRate, "DKK").rate = Decimal("0.135")
        db.session.commit()
    else:
        survey_wave(date(2025, 7, 14), {_contact(history["dora"]): 3})
    result = refresh(**SETTINGS, now=NOW)
    db.session.commit()
    assert result.kind == "rebuild" and reason in result.reason
    refreshed = _rows()
    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    assert refreshed == _rows()


def test_refresh_of_a_table_never_built_rebuilds(history):
    result = refresh(**SETTINGS, now=NOW)
    assert (result.kind, result.reason, result.rows) == ("rebuild", "the table was never built", 37)
    assert "a refresh was not enough: the table was never built" in result.summary()


def test_no_activity_at_all_gives_an_empty_table(create_customer):
    create_customer()
    result = rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    assert result.rows == 0
    assert db.session.scalar(select(func.count()).select_from(CustomerMonth)) == 0
    assert db.session.execute(facts_as_of(THROUGH)).all() == []
    assert refresh(**SETTINGS, now=NOW).kind == "refresh"  # built, empty: nothing stale


def test_the_job_rebuilds_nightly_and_refreshes_in_between(app, history):
    assert rebuild_due(NOW, CPH)  # never built
    assert run_job(app.config, load_templates(), now=NOW).kind == "rebuild"
    build = db.session.get(ReportingBuild, "customer_months")
    build.rebuilt_at = datetime(2026, 2, 20, 1, 30, tzinfo=UTC)  # 02:30 in Copenhagen
    db.session.commit()
    assert run_job(app.config, load_templates(), now=NOW).kind == "refresh"
    assert not rebuild_due(datetime(2026, 2, 20, 22, 59, tzinfo=UTC), CPH)  # 23:59 local
    assert not rebuild_due(datetime(2026, 2, 21, 0, 30, tzinfo=UTC), CPH)  # 01:30 next day
    assert rebuild_due(datetime(2026, 2, 21, 1, 0, tzinfo=UTC), CPH)  # 02:00 next day
    assert rebuild_due(datetime(2026, 2, 24, 12, tzinfo=UTC), CPH)  # days without a job


def _cli(runner, *args):
    return runner.invoke(args=["reporting", *args])


def test_cli_rebuild_and_refresh(runner, history):
    result = _cli(runner, "rebuild", "--through", "2026-02")
    assert result.exit_code == 0, result.output
    assert "customer months rebuilt: 37 rows for 14 months, 2025-01 to 2026-02" in result.output
    result = _cli(runner, "refresh")
    assert result.exit_code == 0, result.output
    assert "customer months" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["rebuild", "--through", "2026-13"], "'2026-13' is not a month; use YYYY-MM"),
        (["rebuild", "--through", "March"], "'March' is not a month; use YYYY-MM"),
        (["rebuild", "--through", "2999-01"], "is after the current month"),
        (["rebuild", "--through"], "requires an argument"),
        (["refresh", "--through", "2026-01"], "No such option"),
    ],
)
def test_cli_bad_input_gets_a_clear_message_and_builds_nothing(runner, history, args, message):
    result = _cli(runner, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(CustomerMonth)) == 0


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
def test_after_a_rebuild_the_table_is_still_the_models(history):
    """PostgreSQL swaps in a freshly built table: same columns, keys, index and checks."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    rebuild(through=THROUGH, **SETTINGS)
    db.session.commit()
    tables = {"customer_months", "reporting_builds"}
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, kind, parent: kind != "table" or name in tables,
            "include_object": lambda obj, name, kind, *_: kind != "table" or name in tables,
        })  # fmt: skip
        diff = compare_metadata(context, db.metadata)
    assert diff == []
    # The foreign key still cascades: a customer's months go with it.
    db.session.delete(history["bo"])
    db.session.commit()
    assert not db.session.scalar(
        select(func.count()).where(CustomerMonth.customer_id == history["bo"].id)
    )
