"""View 3, does NPS predict behaviour: churn and revenue change after the anchor month by
group, on hand-made monthly facts whose answers are worked out below; the anchor's choice;
the two-proportion test; the stored churn backtest (record, job, CLI) and the view."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dashboards import stats
from dashboards.context import make_context
from dashboards.filters import Filters
from dashboards.queries import predict as Q
from dashboards.views.predict import VIEW, headline
from feedback.customers.models import Contact, CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.reporting.build import rebuild
from feedback.reporting.models import CustomerMonth
from feedback.reporting.outcomes import rebuild_predict_months
from feedback.risk.backtests import record_backtest
from feedback.risk.models import ChurnBacktest
from tests.support.dash_tree import ids, texts
from tests.support.history import every, orders, survey_wave

CPH = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 3, 10)
PERIOD = Filters(start=date(2025, 3, 1), end=date(2026, 2, 28))  # anchor: February 2025
ANCHOR = date(2025, 2, 1)
FIRST = date(2024, 3, 1)  # the hand-made facts run from March 2024 to February 2026
LAST = date(2026, 2, 1)


def wilson(hits: int, n: int) -> tuple[float, float]:
    z, p = 1.959964, hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def _months(first: date, last: date):
    key, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    while key <= end:
        yield date(key // 12, key % 12 + 1, 1)
        key += 1


def _facts(customer, buys, *, score=None, answered=None, waves=0, answered_waves=0):
    """CustomerMonth rows from FIRST to LAST: 100 × `buys(month)` of revenue in each month
    (an order on the 15th when there is any), the trailing sums and the last order worked
    out the way the build does; the answer (and wave counts) from its month on."""
    revenue = {m: Decimal(100 * buys(m)) for m in _months(date(2022, 1, 1), LAST)}
    months = list(revenue)
    last_order = None
    for i, month in enumerate(months):
        if revenue[month] > 0:
            last_order = month.replace(day=15)
        if month < FIRST:
            continue
        said = answered is not None and answered <= datetime(month.year, month.month, 28,
                                                             tzinfo=UTC)  # fmt: skip
        db.session.add(CustomerMonth(
            month=month, customer_id=customer.id, revenue=revenue[month],
            orders=int(revenue[month] > 0),
            revenue_12m=sum(revenue[m] for m in months[i - 11:i + 1]),
            revenue_prev_12m=sum(revenue[m] for m in months[i - 23:i - 11]),
            last_order_on=last_order, nps_score=score if said else None,
            nps_answered_at=answered if said else None, waves_12m=waves,
            answered_12m=answered_waves,
        ))  # fmt: skip


def _between(first: date, last: date, amount: int = 1):
    return lambda m: amount if first <= m <= last else 0


ALWAYS = _between(date(2000, 1, 1), date(2999, 1, 1))


def _at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def world(create_customer, create_user):
    """Ten customers; the anchor is February 2025 (the 12 months up to it: March 2024 to
    February 2025). Revenue 100 a month unless said.

    promoters   p1 (10, Nov 2024) buys throughout, class A grow, owner alice, Danish
                p2 (9, Dec 2024) stops after February 2025, class B retain
    detractors  d1 (3, Jan 2025) 200 a month, last orders in March-May 2025, class A grow,
                owner alice; d2 (6, Jan 2025) 200 a month, stops after February 2025,
                class B retain, owner bob; d3 (4, Oct 2024) 200 a month, pauses March to
                August 2025 and comes back, class A retain
    non-resp.   n1 (2 waves, none answered) 50 a month, class C grow, Danish; n2 answered 9
                in August 2023 (18 months before: within 24) but silent in a wave since,
                never classified
    passive     o1 answered 8 in June 2023 (20 months before), no waves since, class A grow
    not asked   x1 answered 2 in January 2023 (over 24 months before), class D retain
    inactive    i1 last ordered in January 2024 (over 365 days before February 2025's end)
    """
    alice = create_user(name="Alice", team="Key")
    bob = create_user(name="Bob", team="Care")
    names = ("p1", "p2", "d1", "d2", "d3", "n1", "n2", "o1", "x1", "i1")
    owners = {"p1": alice, "d1": alice, "d2": bob}
    c = {n: create_customer(name=n, owner=owners.get(n),
                            language="da" if n in ("p1", "n1") else "en")
         for n in names}  # fmt: skip
    upto_m, stop = date(2025, 2, 1), date(2025, 5, 1)
    _facts(c["p1"], ALWAYS, score=10, answered=_at(2024, 11, 5))
    _facts(c["p2"], _between(date(2000, 1, 1), upto_m), score=9, answered=_at(2024, 12, 5))
    _facts(c["d1"], _between(date(2000, 1, 1), stop, 2), score=3, answered=_at(2025, 1, 5))
    _facts(c["d2"], _between(date(2000, 1, 1), upto_m, 2), score=6, answered=_at(2025, 1, 5))
    _facts(c["d3"], lambda m: 0 if date(2025, 3, 1) <= m <= date(2025, 8, 1) else 2,
           score=4, answered=_at(2024, 10, 5))  # fmt: skip
    _facts(c["n1"], lambda m: 0.5, waves=2)
    _facts(c["n2"], ALWAYS, score=9, answered=_at(2023, 8, 5), waves=1)
    _facts(c["o1"], ALWAYS, score=8, answered=_at(2023, 6, 5))
    _facts(c["x1"], ALWAYS, score=2, answered=_at(2023, 1, 5))
    _facts(c["i1"], _between(date(2000, 1, 1), date(2024, 1, 1)))
    run = SegmentRun(as_of=date(2026, 2, 1), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    classes = {"p1": ("A", "grow"), "p2": ("B", "retain"), "d1": ("A", "grow"),
               "d2": ("B", "retain"), "d3": ("A", "retain"), "n1": ("C", "grow"),
               "o1": ("A", "grow"), "x1": ("D", "retain"), "i1": ("A", "grow")}  # fmt: skip
    for name, (abc, programme) in classes.items():
        db.session.add(CustomerSegment(run_id=run.id, customer_id=c[name].id, abc_class=abc,
                                       programme=programme, revenue_12m=Decimal(1000),
                                       rank=1))  # fmt: skip
    db.session.commit()
    rebuild_predict_months(CPH)  # the view reads the facts' sums per anchor month
    db.session.commit()
    return {"customers": c, "alice": alice, "bob": bob}


def _outcomes(filters=PERIOD, today=TODAY):
    return Q.outcomes_after(db.session.connection(), filters, tz=CPH, today=today)


def _counts(o: Q.Outcomes) -> dict:
    return {g.group: g.customers for g in o.groups}


# --- the anchor ----------------------------------------------------------------------------


def test_the_anchor_is_the_last_complete_month_minus_twelve():
    pick = Q.choose_anchor
    assert pick(FIRST, LAST, date(2026, 2, 28), TODAY) == (ANCHOR, LAST, (6, 12))
    # A period ending in the running month stops at the month before it.
    assert pick(FIRST, date(2026, 3, 1), date(2026, 3, 31), TODAY) == (ANCHOR, LAST, (6, 12))
    # Facts not built up to the period's end: the newest built month is the last.
    assert pick(FIRST, date(2025, 12, 1), date(2026, 2, 28), TODAY)[0] == date(2024, 12, 1)
    # Facts starting too late for 12 months: the latest month with 6 months after it.
    assert pick(date(2025, 6, 1), LAST, date(2026, 2, 28), TODAY) == (
        date(2025, 8, 1), LAST, (6,))  # fmt: skip
    assert pick(date(2025, 9, 1), LAST, date(2026, 2, 28), TODAY) == (None, LAST, ())
    assert pick(None, None, date(2026, 2, 28), TODAY) == (None, LAST, ())


# --- outcomes by group, worked out by hand -------------------------------------------------


def test_groups_first_match_wins_and_inactive_customers_are_left_out(world):
    o = _outcomes()
    assert (o.anchor, o.last_month, o.horizons, o.first_month) == (ANCHOR, LAST, (6, 12), FIRST)
    assert o.revenue_horizons == (6, 12)
    assert _counts(o) == {"promoter": 2, "passive": 1, "detractor": 3, "non_responder": 2,
                          "not_asked": 1}  # fmt: skip
    assert o.customers == 9  # i1 bought nothing in the 12 months up to February 2025


def test_churn_within_6_and_12_months(world):
    o = _outcomes()
    p, d, n = o.group("promoter"), o.group("detractor"), o.group("non_responder")
    # p2 stops after February: churned at 6 and 12 months.
    assert (p.churned, p.churn[6].n, p.churn[12].n) == ({6: 1, 12: 1}, 2, 2)
    # d1 orders in March-May; d2 stops; d3 pauses six months and comes back.
    assert d.churned == {6: 2, 12: 1}
    assert d.churn[6].value == pytest.approx(200 / 3)
    assert (d.churn[6].low, d.churn[6].high) == pytest.approx(wilson(2, 3))
    assert (d.churn[12].low, d.churn[12].high) == pytest.approx(wilson(1, 3))
    assert n.churned == {6: 0, 12: 0} and n.churn[12].value == 0
    assert not d.churn[12].enough  # three customers: too few


def test_revenue_change_per_customer_and_in_percent(world):
    o = _outcomes()
    p, d = o.group("promoter"), o.group("detractor")
    # 12 months: p1 1,200 -> 1,200, p2 1,200 -> 0.
    assert (p.change[12].value, p.change[12].n) == (-600, 2)
    assert p.change_pct[12] == pytest.approx(-50)
    # d1 2,400 -> 600, d2 2,400 -> 0, d3 2,400 -> 1,200 (September to February).
    e = d.change[12]
    assert e.value == pytest.approx(-1800)
    se = math.sqrt(((0**2 + 600**2 + 600**2) / 2) / 3)
    assert (e.low, e.high) == pytest.approx((-1800 - 1.959964 * se, -1800 + 1.959964 * se))
    assert d.revenue_before[12] == 7200 and d.change_pct[12] == pytest.approx(-75)
    # 6 months: 12-month revenue in August 2025 against February 2025, i.e. March-August
    # 2025 against March-August 2024 (1,200 each): d1 1,800, d2 and d3 1,200.
    assert d.change[6].value == pytest.approx(-1000)  # -600, -1,200, -1,200
    assert d.revenue_before[6] == 7200 and d.change_pct[6] == pytest.approx(-3000 / 72)
    assert (p.change[6].value, p.change_pct[6]) == (-300, pytest.approx(-25))  # p2: 600
    n = o.group("non_responder")
    assert (n.change[12].value, n.change[6].value, n.revenue_before[12]) == (0, 0, 1800)


def test_only_six_months_when_the_facts_start_too_late(world):
    # Period ending February 2025: 12 months before is February 2024, before the facts.
    o = _outcomes(PERIOD.but(start=date(2024, 3, 1), end=date(2025, 2, 28)))
    assert (o.anchor, o.horizons) == (date(2024, 8, 1), (6,))
    assert all(12 not in g.churn and 12 not in g.change for g in o.groups)
    assert o.customers == 10  # i1 still bought within 365 days of August 2024


def test_the_two_proportion_test():
    assert Q.two_proportion_z(30, 100, 10, 100) == pytest.approx(0.2 / math.sqrt(0.0032))
    assert Q.two_proportion_z(0, 50, 0, 60) is None  # nobody churned: no spread
    assert Q.two_proportion_z(1, 0, 1, 5) is None

    def group(hits, n):
        return Q.GroupOutcome("detractor", n, {12: stats.proportion(hits, n)}, {12: hits},
                              {}, {}, {})  # fmt: skip

    z, significant = Q.churn_differs(group(30, 100), group(10, 100), 12)
    assert significant is True and z == pytest.approx(3.5355, abs=1e-3)
    assert Q.churn_differs(group(12, 100), group(10, 100), 12)[1] is False
    assert Q.churn_differs(group(1, 3), group(1, 2), 12) == (pytest.approx(-0.3727, abs=1e-3),
                                                             None)  # fmt: skip


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"classes": ("A",)}, {"promoter": 1, "passive": 1, "detractor": 2}),
        ({"programme": "retain"}, {"promoter": 1, "detractor": 2, "not_asked": 1}),
        ({"owner": "none"}, {"promoter": 1, "passive": 1, "detractor": 1, "non_responder": 2,
                             "not_asked": 1}),
        ({"language": "da"}, {"promoter": 1, "non_responder": 1}),
    ],
)  # fmt: skip
def test_customer_filters_narrow_the_groups(world, changes, expected):
    counts = {k: v for k, v in _counts(_outcomes(PERIOD.but(**changes))).items() if v}
    assert counts == expected


def test_owner_and_team_filters(world):
    alice, bob = world["alice"], world["bob"]
    assert {k: v for k, v in _counts(_outcomes(PERIOD.but(owner=alice.id))).items() if v} == {
        "promoter": 1, "detractor": 1}  # fmt: skip
    assert _outcomes(PERIOD.but(owner=bob.id)).group("detractor").churned == {6: 1, 12: 1}
    assert _outcomes(PERIOD.but(team=alice.team_id)).customers == 2
    assert _outcomes(PERIOD.but(team=bob.team_id)).customers == 1


def test_survey_and_wave_filters_do_not_apply(world):
    plain = _outcomes()
    for changes in ({"survey": "nps"}, {"survey": "12"}, {"wave": 3}):
        assert _outcomes(PERIOD.but(**changes)) == plain


def test_the_period_moves_the_anchor(world):
    o = _outcomes(PERIOD.but(end=date(2025, 12, 31)))
    assert o.anchor == date(2024, 12, 1)
    # In December 2024 d1 and d2 had answered nothing yet: "not asked", with i1 (active
    # then); x1's answer of January 2023 was 23 months old then: a detractor, with d3.
    assert o.group("detractor").customers == 2 and o.group("not_asked").customers == 3
    assert o.customers == 10
    # Revenue of January and February 2024 is not in the facts (they start in March): no
    # revenue change, only churn.
    assert o.revenue_horizons == ()
    assert all(not g.change and 12 in g.churn for g in o.groups if g.customers)
    assert "predict-revenue" not in ids(
        VIEW.render(make_context(PERIOD.but(end=date(2025, 12, 31))))
    )


def test_no_facts_at_all_is_empty_not_an_error():
    o = _outcomes()
    assert (o.anchor, o.first_month, o.customers) == (None, None, 0)


# --- through the real build ----------------------------------------------------------------


def test_outcomes_on_facts_built_from_transactions_and_answers(create_customer):
    keep, leave = create_customer(name="keep"), create_customer(name="leave")
    orders(keep, every(date(2024, 3, 10), date(2026, 2, 28), 30), amount=100)
    orders(leave, every(date(2024, 3, 10), date(2025, 2, 28), 30), amount=200)
    contacts = {}
    for customer in (keep, leave):
        contacts[customer] = Contact(customer_id=customer.id, email=f"{customer.id}@x.test")
        db.session.add(contacts[customer])
    db.session.commit()
    survey_wave(date(2025, 1, 20), {contacts[keep]: 10, contacts[leave]: 3})
    rebuild(through=LAST, base_currency="EUR", tz=CPH, nps_template_keys=["nps"])
    rebuild_predict_months(CPH)
    db.session.commit()
    o = _outcomes()
    assert o.anchor == ANCHOR
    p, d = o.group("promoter"), o.group("detractor")
    assert (p.customers, p.churned, d.customers, d.churned) == (1, {6: 0, 12: 0}, 1,
                                                                 {6: 1, 12: 1})  # fmt: skip
    revenue_before = float(db.session.scalar(
        select(CustomerMonth.revenue_12m).where(CustomerMonth.customer_id == leave.id,
                                                CustomerMonth.month == ANCHOR)))  # fmt: skip
    assert d.change[12].value == pytest.approx(-revenue_before) and d.change_pct[12] == -100


# --- the stored backtest -------------------------------------------------------------------


def _backtest_history(create_customer, as_of):
    """Ten fortnightly buyers; the three detractors stop at `as_of` (as in test_churn)."""
    customers = [create_customer() for _ in range(10)]
    contacts = {}
    for n, customer in enumerate(customers):
        orders(customer, [as_of - timedelta(days=14 * k) for k in range(40)])
        if n >= 3:
            orders(customer, every(as_of + timedelta(days=14), as_of + timedelta(days=90), 14))
        contacts[customer] = Contact(customer_id=customer.id, email=f"b{n}@x.test")
        db.session.add(contacts[customer])
    db.session.commit()
    survey_wave(as_of - timedelta(days=61), {c: 3 if n < 3 else 9 + n % 2
                                             for n, c in enumerate(contacts.values())})  # fmt: skip


def test_record_backtest_stores_the_result_once_per_date(app, create_customer):
    as_of = date(2025, 6, 1)
    _backtest_history(create_customer, as_of)
    stored = record_backtest(app.config, today=as_of + timedelta(days=90), horizon_days=90)
    db.session.commit()
    assert (stored.as_of, stored.horizon_days) == (as_of, 90)
    assert (stored.result["customers"], stored.result["churned"]) == (10, 3)
    assert stored.result["auc"]["nps"] == 1.0
    again = record_backtest(app.config, today=as_of + timedelta(days=90), horizon_days=90)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ChurnBacktest)) == 1
    b = Q.latest_backtest(db.session.connection())
    assert (b.as_of, b.customers, b.churned, b.horizon_days) == (as_of, 10, 3, 90)
    assert b.computed_at == again.computed_at
    nps = next(s for s in b.signals if s.signal == "nps")
    assert (nps.label, nps.auc, nps.auc_low, nps.auc_high) == ("NPS alone", 1.0, 1.0, 1.0)
    assert nps.lift == pytest.approx(3.333, abs=0.001)
    assert [s.signal for s in b.signals][:4] == ["combined", "nps", "non_response", "recency"]


def test_the_weekly_churn_job_stores_a_backtest(app):
    from feedback.jobs.registry import run_job

    summary = run_job(app, "recompute_churn")
    assert "backtest as of" in summary
    stored = db.session.scalar(select(ChurnBacktest))
    assert stored.as_of == date.today() - timedelta(days=180)


def test_cli_backtest_store(runner, create_customer):
    from feedback.risk.cli import churn_cli

    as_of = date(2025, 6, 1)
    _backtest_history(create_customer, as_of)
    args = ["backtest", "--as-of", as_of.isoformat(), "--horizon-days", "90"]
    assert runner.invoke(churn_cli, args).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(ChurnBacktest)) == 0
    result = runner.invoke(churn_cli, [*args, "--store"])
    assert result.exit_code == 0, result.output
    assert "Stored" in result.output
    db.session.remove()
    assert db.session.scalar(select(ChurnBacktest.as_of)) == as_of


# --- the view ------------------------------------------------------------------------------


def test_the_view_renders_without_a_stored_backtest(app, world):
    ctx = make_context(PERIOD)
    out = VIEW.render(ctx)
    text = texts(out)
    assert "detractors placed no order in the following 12 months at 33.3 %" in text
    assert "Too few customers" in text  # three detractors, two promoters
    assert "No backtest is stored yet" in text and "--store" in text
    assert {"predict-churn", "predict-revenue"} <= ids(out)
    assert "predict-backtest" not in ids(out)
    churn = next(c for c in out[3].children if c.id == "predict-churn").figure
    assert [t["name"] for t in churn["data"]] == ["6 months", "12 months"]
    assert churn["data"][1]["marker"]["color"][0] == "#BDBDBD"  # two promoters: greyed
    columns, rows = VIEW.table(ctx)
    churn_rows = {(r[2], r[4]): r for r in rows if r[3] == "churn_pct"}
    assert churn_rows[("detractor", 12)][5:] == [33.3, *[round(x, 1) for x in wilson(1, 3)], 3]
    assert all(r[1] == "2025-02" for r in rows)


def test_the_view_shows_the_stored_backtest(app, world):
    db.session.add(ChurnBacktest(as_of=date(2025, 9, 1), horizon_days=180,
                                 computed_at=datetime(2026, 3, 1, 6, tzinfo=UTC), result={
        "as_of": "2025-09-01", "horizon_days": 180, "model": "fitted", "customers": 400,
        "churned": 40, "auc": {"combined": 0.81, "nps": 0.62},
        "auc_ci95": {"combined": [0.75, 0.87], "nps": [0.53, 0.71]},
        "lift_top_decile": {"combined": 3.2, "nps": 1.6}}))  # fmt: skip
    db.session.commit()
    ctx = make_context(PERIOD)
    out = VIEW.render(ctx)
    assert "predict-backtest" in ids(out)
    text = texts(out)
    assert "1 September 2025" in text and "400 active customers, 40 of them (10.0 %)" in text
    assert "0.810" in text and "0.750 – 0.870" in text
    figure = next(g for g in out[-3].children if getattr(g, "id", None) == "predict-backtest")
    assert figure.figure["data"][0]["x"] == [0.62, 0.81]  # the combined score on top
    assert figure.figure["layout"]["shapes"][0]["x0"] == 0.5
    _, rows = VIEW.table(ctx)
    assert ["backtest", "2025-09-01", "combined", "auc", None, 0.81, 0.75, 0.87, 400] in rows


def test_the_headline_says_when_the_difference_is_real():
    def group(key, hits, n):
        return Q.GroupOutcome(key, n, {12: stats.proportion(hits, n)}, {12: hits}, {}, {}, {})

    o = Q.Outcomes(ANCHOR, ANCHOR, LAST, (6, 12), (6, 12),
                   [group("promoter", 6, 100), group("passive", 0, 0),
                    group("detractor", 18, 100), group("non_responder", 0, 0),
                    group("not_asked", 0, 0)], FIRST)  # fmt: skip
    text = headline(o)
    assert "detractors placed no order in the following 12 months at 18.0 %" in text
    assert "promoters at 6.0 %" in text and "is larger than chance" in text and "z = 2." in text
    o.groups[0] = group("promoter", 0, 0)
    assert headline(o).startswith("No promoters among the customers active in February 2025")


def test_the_view_with_no_data_at_all(app):
    ctx = make_context(PERIOD)
    text = texts(VIEW.render(ctx))
    assert "There are no customer facts yet" in text and "No backtest is stored yet" in text
    columns, rows = VIEW.table(ctx)
    assert columns[0] == "section" and rows == []


def test_the_view_when_no_customer_matches(app, world):
    ctx = make_context(PERIOD.but(classes=("D",), programme="grow"))
    assert "No customers matching these filters were active in February 2025" in texts(
        VIEW.render(ctx)
    )
