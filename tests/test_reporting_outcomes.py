"""predict_months and risk_months: on a small random history, views 3 and 5 read from the
sums give the figures of a direct per-customer computation from customer_months (the
rules of dashboards/queries/predict.py and revenue_risk.py, written out below), for many
anchors, snapshot days and filters; new facts and a new churn run show after the facts
job."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries import predict as P
from dashboards.queries import revenue_risk as R
from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.list_filters import NO_OWNER
from feedback.reporting.facts import rebuild_facts
from feedback.reporting.models import CustomerMonth
from feedback.reporting.outcomes import rebuild_predict_months, rebuild_risk_months
from feedback.risk.models import ChurnRun, ChurnScore

CPH = ZoneInfo("Europe/Copenhagen")
FIRST, LAST = date(2023, 1, 1), date(2025, 12, 1)
TODAY = date(2026, 1, 10)
NOW = datetime(2025, 12, 20, 12, tzinfo=UTC)  # the facts job's "now": since November 2025
RUN_DAYS = (date(2024, 6, 30), date(2025, 3, 3), date(2025, 3, 17), date(2025, 11, 10))


def _key(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month(key: int) -> date:
    return date(key // 12, key % 12 + 1, 1)


def _months(first: date = FIRST, last: date = LAST) -> list[date]:
    return [_month(k) for k in range(_key(first), _key(last) + 1)]


def _add_facts(rng: random.Random, customer) -> None:
    """Facts from a random first month to LAST: revenue (some credits, many empty months),
    the trailing sums and last order as the build keeps them, an NPS answer or two (some
    at 23:xx UTC on a month's last day, the next month locally) and wave counts."""
    start = rng.randrange(len(_months()) - 6)
    stop = rng.choice([None, rng.randrange(start, len(_months()))])  # stops buying, or not
    revenue, last_order = {}, None
    answers = sorted(
        datetime(m.year, m.month, 28, 23, 30, tzinfo=UTC) + timedelta(days=rng.choice([0, 3]))
        for m in rng.sample(_months(), rng.choice([0, 1, 2]))
    )  # fmt: skip
    scores = [rng.randrange(11) for _ in answers]
    for i, month in enumerate(_months()):
        bought = i >= start and (stop is None or i <= stop) and rng.random() < 0.6
        revenue[month] = Decimal(rng.choice([-40, 120, 350, 900])) if bought else Decimal(0)
        if revenue[month] > 0:
            last_order = month.replace(day=rng.randrange(1, 29))
        if i < start:
            continue
        history = list(revenue.values())
        said = [(a, s) for a, s in zip(answers, scores, strict=True)
                if a.astimezone(CPH).date() < _month(_key(month) + 1)]  # fmt: skip
        waves = rng.choice([0, 0, 1, 2])
        db.session.add(CustomerMonth(
            month=month, customer_id=customer.id, revenue=revenue[month],
            orders=int(revenue[month] > 0), revenue_12m=sum(history[-12:]),
            revenue_prev_12m=sum(history[-24:-12]), last_order_on=last_order,
            nps_score=said[-1][1] if said else None,
            nps_answered_at=said[-1][0] if said else None,
            waves_12m=waves, answered_12m=rng.choice(range(waves + 1)),
        ))  # fmt: skip


@pytest.fixture
def world(create_customer, create_user):
    rng = random.Random(20261203)
    owners = [create_user(name="Alice", team="Key"), create_user(name="Bob", team="Care"),
              create_user(name="", team="Key")]  # fmt: skip
    run = SegmentRun(as_of=date(2025, 12, 1), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    customers = []
    for n in range(40):
        c = create_customer(owner=rng.choice([*owners, None]), language=rng.choice(["en", "da"]))
        customers.append(c)
        _add_facts(rng, c)
        if rng.random() < 0.85:  # the rest never classified
            db.session.add(CustomerSegment(run_id=run.id, customer_id=c.id,
                                           abc_class=rng.choice("ABCD"),
                                           programme=rng.choice(["grow", "retain"]),
                                           revenue_12m=Decimal(1), rank=n + 1))  # fmt: skip
    for day in RUN_DAYS:  # computed well before the job's first build (NOW)
        _churn_run(rng, day, customers, computed_at=datetime(2025, 12, 1, tzinfo=UTC))
    db.session.commit()
    rebuild_facts(_config(), NOW)
    db.session.commit()
    return {"rng": rng, "customers": customers, "owners": owners, "segments": run.id}


def _config():
    from flask import current_app

    return current_app.config


def _churn_run(rng, day: date, customers, computed_at: datetime | None = None) -> ChurnRun:
    run = ChurnRun(as_of=day, horizon_days=180, model="default",
                   computed_at=computed_at or datetime.now(UTC))  # fmt: skip
    db.session.add(run)
    db.session.flush()
    for c in rng.sample(customers, 30):  # some customers unscored
        db.session.add(ChurnScore(run_id=run.id, customer_id=c.id, risk=rng.randrange(101),
                                  revenue_12m=Decimal(0), revenue_at_risk=Decimal(0)))  # fmt: skip
    return run


# --- the direct computation ------------------------------------------------------------------


def _facts() -> dict:
    return {(f.customer_id, f.month): f for f in db.session.scalars(select(CustomerMonth))}


def _customer_filters(filters: Filters, world) -> dict:
    """customer id -> whether the class, programme, owner, team and language filters let it
    through (class and programme from the newest segment run)."""
    segments = {s.customer_id: s for s in db.session.scalars(
        select(CustomerSegment).where(CustomerSegment.run_id == world["segments"]))}  # fmt: skip
    teams = {u.id: u.team_id for u in world["owners"]}
    passes = {}
    for c in world["customers"]:
        s = segments.get(c.id)
        passes[c.id] = (
            (not filters.classes or (s is not None and s.abc_class in filters.classes))
            and (filters.programme is None or (s is not None and s.programme == filters.programme))
            and (filters.owner is None or (c.owner_id is None if filters.owner == NO_OWNER
                                           else c.owner_id == filters.owner))
            and (filters.team is None or teams.get(c.owner_id) == filters.team)
            and (filters.language is None or c.language == filters.language)
        )  # fmt: skip
    return passes


def _band(score: int | None) -> str:
    return "none" if score is None else ("promoter" if score >= 9 else "passive" if score >= 7
                                         else "detractor")  # fmt: skip


def _answered_since(f, first_day: date) -> bool:
    return f.nps_answered_at is not None and f.nps_answered_at.astimezone(CPH).date() >= first_day


def _predict_direct(facts, passes, anchor: date, horizons) -> dict:
    """group -> [n, Σ revenue at M, {h: [seen, churned, Σ change, Σ change²]}]."""
    m_key = _key(anchor)
    m_last = _month(m_key + 1) - timedelta(days=1)
    out: dict = {}
    for (customer_id, month), f in facts.items():
        active = f.revenue_12m > 0 or (
            f.last_order_on is not None and f.last_order_on > m_last - timedelta(days=365)
        )
        if month != anchor or not active or not passes[customer_id]:
            continue
        if _answered_since(f, _month(m_key - 11)):
            group = _band(f.nps_score)
        elif f.waves_12m > 0 and f.answered_12m == 0:
            group = "non_responder"
        elif _answered_since(f, _month(m_key - 23)):
            group = _band(f.nps_score)
        else:
            group = "not_asked"
        cell = out.setdefault(group, [0, 0.0, {h: [0, 0, 0.0, 0.0] for h in horizons}])
        cell[0] += 1
        cell[1] += float(f.revenue_12m)
        for h in horizons:
            later = facts.get((customer_id, _month(m_key + h)))
            if later is None:
                continue
            change = float(later.revenue_12m - f.revenue_12m)
            sums = cell[2][h]
            sums[0] += 1
            sums[1] += later.last_order_on is None or later.last_order_on <= m_last
            sums[2] += change
            sums[3] += change * change
    return out


def _risk_direct(facts, passes, world, end: date) -> dict:
    """(dimension, key) -> [customers, revenue, Σ revenue², scored, expected loss,
    {kind: [customers, amount]}], dimension 'owner', 'class' or 'total'."""
    month = end.replace(day=1)
    run = db.session.scalar(select(ChurnRun).where(ChurnRun.as_of <= end)
                            .order_by(ChurnRun.as_of.desc()).limit(1))  # fmt: skip
    risks = {} if run is None else dict(db.session.execute(
        select(ChurnScore.customer_id, ChurnScore.risk).where(ChurnScore.run_id == run.id)
    ).all())  # fmt: skip
    segments = {s.customer_id: s.abc_class for s in db.session.scalars(
        select(CustomerSegment).where(CustomerSegment.run_id == world["segments"]))}  # fmt: skip
    owner_of = {c.id: c.owner_id for c in world["customers"]}
    out: dict = {}
    for (customer_id, m), f in facts.items():
        if m != month or not passes[customer_id]:
            continue
        if f.revenue_12m == 0 and f.revenue_prev_12m == 0:
            continue
        detractor = (not (f.waves_12m > 0 and f.answered_12m == 0)
                     and _answered_since(f, _month(_key(month) - 23))
                     and _band(f.nps_score) == "detractor")  # fmt: skip
        risk = risks.get(customer_id)
        high = risk is not None and risk >= R.HIGH_RISK
        kind = ("both" if high and detractor else "high risk only" if high
                else "detractor only" if detractor else None)  # fmt: skip
        revenue = float(f.revenue_12m)
        owner = owner_of[customer_id]
        for key in (
            ("owner", NO_OWNER if owner is None else owner),
            ("class", segments.get(customer_id) or "none"),
            ("total", None),
        ):
            cell = out.setdefault(key, [0, 0.0, 0.0, 0, 0.0, defaultdict(lambda: [0, 0.0])])
            cell[0] += 1
            cell[1] += revenue
            cell[2] += revenue * revenue
            cell[3] += risk is not None
            cell[4] += (risk or 0) * revenue / 100
            if kind:
                cell[5][kind][0] += 1
                cell[5][kind][1] += revenue
    return out


# --- checks ----------------------------------------------------------------------------------


def _same_estimate(got: stats.Estimate, expected: stats.Estimate) -> None:
    assert got.n == expected.n
    for a, b in ((got.value, expected.value), (got.low, expected.low), (got.high, expected.high)):
        assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9, abs=1e-6)


def _check_predict(world, filters: Filters) -> P.Outcomes:
    o = P.outcomes_after(db.session.connection(), filters, tz=CPH, today=TODAY)
    expected = _predict_direct(_facts(), _customer_filters(filters, world), o.anchor,
                               o.horizons) if o.anchor else {}  # fmt: skip
    for g in o.groups:
        n, before, sums = expected.get(g.group, (0, 0.0, {}))
        assert g.customers == n, (filters, g.group)
        for h in o.horizons if n else ():
            seen, churned, total, total_sq = sums[h]
            assert g.churned[h] == churned
            _same_estimate(g.churn[h], stats.proportion(churned, seen))
            if h in o.revenue_horizons:
                _same_estimate(g.change[h], stats.mean(seen, total, total_sq))
                assert g.revenue_before[h] == pytest.approx(before)
                assert g.change_pct[h] == (pytest.approx(100 * total / before) if before > 0
                                           else None)  # fmt: skip
    return o


def _check_risk(world, filters: Filters) -> R.RevenueRisk:
    r = R.revenue_risk(db.session.connection(), filters, tz=CPH)
    expected = _risk_direct(_facts(), _customer_filters(filters, world), world, filters.end)
    rows = [(("total", None), r.total)] + [(("owner", o.key), o) for o in r.owners]
    rows += [(("class", c.key), c) for c in r.classes]
    assert len(rows) == len(expected)
    for key, row in rows:
        n, revenue, revenue_sq, scored, loss, kinds = expected[key]
        assert (row.customers, row.scored) == (n, scored), (filters, key)
        assert (row.revenue, row.revenue_sq, row.expected_loss) == (
            pytest.approx(revenue), pytest.approx(revenue_sq), pytest.approx(loss))  # fmt: skip
        for kind in R.KINDS:
            assert (row.count(kind), row.amount(kind)) == (
                kinds[kind][0], pytest.approx(kinds[kind][1])), (filters, key, kind)  # fmt: skip
    return r


def _filter_variants(world) -> list[dict]:
    alice, bob, _ = world["owners"]
    return [{}, {"classes": ("A", "B")}, {"programme": "grow"}, {"language": "da"},
            {"owner": alice.id}, {"owner": NO_OWNER}, {"team": bob.team_id},
            {"classes": ("C",), "programme": "retain", "language": "en"}]  # fmt: skip


def test_predict_sums_match_the_customers_one_by_one(world):
    anchors = set()
    for end in (date(2024, 6, 30), date(2024, 12, 31), date(2025, 5, 31), date(2025, 12, 31)):
        for changes in _filter_variants(world):
            o = _check_predict(world, Filters(start=date(2023, 1, 1), end=end).but(**changes))
            anchors.add((o.anchor, o.horizons, o.revenue_horizons))
    # Anchors with and without a revenue change (the 12 months up to M in the facts or not).
    assert len(anchors) == 4 and {a[2] for a in anchors} == {(), (6, 12)}


def test_risk_sums_match_the_customers_one_by_one(world):
    runs = set()
    # Before any run, a run's day, between two runs of one month, after the last.
    for end in (date(2024, 5, 31), date(2024, 6, 30), date(2025, 3, 10), date(2025, 3, 31),
                date(2025, 11, 9), date(2025, 12, 31)):  # fmt: skip
        for changes in _filter_variants(world):
            r = _check_risk(world, Filters(start=date(2023, 1, 1), end=end).but(**changes))
            runs.add(r.run.as_of if r.run else None)
    assert runs == {None, *RUN_DAYS}  # November 2025 up to the 9th: the run of 17 March


def test_new_facts_show_after_the_facts_job(world):
    """The job rebuilds from the previous month on; anchors 6 and 12 months before it
    change too."""
    f = CustomerMonth
    db.session.execute(update(f).where(f.month >= date(2025, 11, 1)).values(
        revenue_12m=f.revenue_12m + 1000, last_order_on=date(2025, 11, 30)))  # fmt: skip
    db.session.commit()
    before = _outcomes(date(2025, 11, 30))
    rebuild_facts(_config(), NOW, all_months=False)
    db.session.commit()
    after = _check_predict(world, Filters(start=date(2023, 1, 1), end=date(2025, 11, 30)))
    assert after.anchor == date(2024, 11, 1) and after != before
    _check_predict(world, Filters(start=date(2023, 1, 1), end=date(2025, 5, 31)))
    _check_risk(world, Filters(start=date(2023, 1, 1), end=date(2025, 11, 30)))


def _outcomes(end: date) -> P.Outcomes:
    filters = Filters(start=date(2023, 1, 1), end=end)
    return P.outcomes_after(db.session.connection(), filters, tz=CPH, today=TODAY)


def test_a_new_churn_run_shows_after_the_facts_job(world):
    # A run dated back into March 2025, between the two there: the view keeps the older
    # run until the job has summed the new one, then shows it.
    filters = Filters(start=date(2024, 4, 1), end=date(2025, 3, 12))
    _churn_run(world["rng"], date(2025, 3, 10), world["customers"])
    db.session.commit()
    assert R.revenue_risk(db.session.connection(), filters, tz=CPH).run.as_of == RUN_DAYS[1]
    rebuild_facts(_config(), NOW, all_months=False)
    db.session.commit()
    assert _check_risk(world, filters).run.as_of == date(2025, 3, 10)
    # An old run recomputed for its day (same id, new scores) is summed anew as well,
    # though its month is long before the months the job rebuilds anyway.
    run = db.session.scalar(select(ChurnRun).where(ChurnRun.as_of == RUN_DAYS[0]))
    db.session.execute(update(ChurnScore).where(ChurnScore.run_id == run.id).values(risk=100))
    run.computed_at = datetime.now(UTC)
    db.session.commit()
    june = Filters(start=date(2023, 7, 1), end=date(2024, 6, 30))
    stale = R.revenue_risk(db.session.connection(), june, tz=CPH).total
    assert stale.scored > stale.count("both") + stale.count("high risk only")
    rebuild_facts(_config(), NOW, all_months=False)
    db.session.commit()
    r = _check_risk(world, june)
    assert r.total.scored == r.total.count("both") + r.total.count("high risk only")


def test_direct_computation_is_not_trivially_empty(world):
    r = _check_risk(world, Filters(start=date(2024, 12, 1), end=date(2025, 12, 31)))
    assert r.total.customers > 10 and r.total.at_risk > 0 and len(r.owners) >= 3
    assert all(r.total.count(kind) for kind in R.KINDS)
    o = _outcomes(date(2025, 12, 31))
    assert o.customers > 10 and sum(g.customers > 0 for g in o.groups) >= 4
    churned = sum(g.churned.get(12, 0) for g in o.groups)
    assert 0 < churned < sum(g.churn[12].n for g in o.groups if 12 in g.churn)


def test_rebuilding_again_changes_nothing(world):
    first = _outcomes(date(2025, 12, 31))
    rebuild_predict_months(CPH)
    rebuild_risk_months(CPH, date(2025, 11, 1))
    db.session.commit()
    assert _outcomes(date(2025, 12, 31)) == first
