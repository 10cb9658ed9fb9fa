"""The dashboard's frame and first view: statistics, periods, URL filters, the NPS and
CSI queries on a hand-made data set with known answers, the `report nps` command, and who
may open the dashboard (page, Dash's own routes, the CSRF-checked callback POST)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboards import periods as P
from dashboards import stats
from dashboards.filters import Filters, default_filters, offered, parse, to_query
from dashboards.queries.trend import csi_by_period, nps_by_period
from feedback.extensions import db
from tests.support.dash_tree import as_json
from tests.support.dashboard_world import make_world

CPH = ZoneInfo("Europe/Copenhagen")

# --- statistics ---------------------------------------------------------------------------


def test_nps_interval_follows_the_issue_formula():
    e = stats.nps(2, 1, 1)  # 50 % promoters, 25 % detractors
    assert e.value == pytest.approx(25.0)
    se = 100 * math.sqrt((0.5 + 0.25 - 0.25**2) / 4)
    assert e.se == pytest.approx(se)
    assert e.low == pytest.approx(25 - 1.959964 * se)
    assert e.high == 100.0  # clipped to the scale
    assert not e.enough and e.n == 4


def test_nps_of_nothing_is_empty_not_zero():
    assert stats.nps(0, 0, 0) == stats.EMPTY


def test_significance_needs_enough_answers_on_both_sides():
    big_up, big_down = stats.nps(30, 0, 10), stats.nps(10, 0, 30)
    assert stats.change_significant(big_up, big_down) is True
    assert stats.change_significant(big_up, stats.nps(29, 1, 10)) is False
    assert stats.change_significant(stats.nps(2, 1, 1), big_down) is None


def test_wilson_interval_stays_inside_0_and_100():
    e = stats.proportion(0, 10)
    assert e.value == 0 and e.low == pytest.approx(0, abs=1e-9) and 0 < e.high < 35
    e = stats.proportion(50, 100)
    assert e.low == pytest.approx(40.38, abs=0.01) and e.high == pytest.approx(59.62, abs=0.01)


def test_mean_interval_from_sums():
    values = [60.0, 70.0, 80.0]
    e = stats.mean(3, sum(values), sum(v * v for v in values), bounds=(0, 100))
    assert e.value == pytest.approx(70.0)
    assert e.se == pytest.approx(10 / math.sqrt(3))


def _sums(xs, ys):
    return (len(xs), sum(xs), sum(ys), sum(x * y for x, y in zip(xs, ys, strict=True)),
            sum(x * x for x in xs), sum(y * y for y in ys))  # fmt: skip


def test_correlation_and_its_fisher_interval_by_hand():
    # deviations x: -2 -1 0 1 2, y: -2 0 1 0 1 -> Σdxdy 6, Σdx² 10, Σdy² 6 -> r = 6 / √60
    e = stats.correlation(*_sums([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]))
    r = 6 / math.sqrt(60)
    assert e.value == pytest.approx(r) and e.n == 5
    assert e.se == pytest.approx(1 / math.sqrt(2))
    assert e.low == pytest.approx(math.tanh(math.atanh(r) - 1.959964 / math.sqrt(2)))
    assert e.high == pytest.approx(math.tanh(math.atanh(r) + 1.959964 / math.sqrt(2)))
    assert not e.enough


def test_correlation_without_spread_or_pairs_has_no_value():
    assert stats.correlation(*_sums([7, 7, 7, 7], [10.0, 20.0, 30.0, 40.0])).value is None
    assert stats.correlation(*_sums([1, 2, 3, 4], [50.0] * 4)).value is None
    assert stats.correlation(0, 0, 0, 0, 0, 0).value is None
    three = stats.correlation(*_sums([1, 2, 3], [1.0, 2.0, 3.0]))
    assert three.value == pytest.approx(1.0) and three.low is None  # no interval below 4
    perfect = stats.correlation(*_sums(list(range(40)), [2.0 * i for i in range(40)]))
    assert perfect.value == pytest.approx(1.0) and perfect.high == pytest.approx(1.0)


# --- periods and filters ------------------------------------------------------------------


def test_periods_cut_at_local_midnight_and_clip_to_the_range():
    spans = P.periods(date(2025, 2, 15), date(2025, 7, 3), "quarter")
    assert [s.label for s in spans] == ["2025-Q1", "2025-Q2", "2025-Q3"]
    assert spans[0].first == date(2025, 2, 15) and spans[-1].last == date(2025, 7, 3)
    first_days = [p.first for p in P.periods(date(2025, 1, 1), date(2025, 7, 31), "month")]
    edges = [P.local_midnight_utc(day, CPH) for day in first_days]
    assert edges[0] == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)  # winter: UTC+1
    assert edges[6] == datetime(2025, 6, 30, 22, 0, tzinfo=UTC)  # summer: UTC+2
    with pytest.raises(ValueError):
        P.periods(date(2025, 1, 1), date(2025, 2, 1), "week")


def test_url_filters_round_trip_and_bad_values_are_named():
    today = date(2026, 12, 2)
    query = ("?view=nps&from=2025-01-01&to=2025-12-31&grain=quarter&class=b,A,A"
             "&programme=Grow&language=sv&owner=none&team=3&survey=nps&wave=9")  # fmt: skip
    parsed = parse(query, today)
    f = parsed.filters
    assert (f.start, f.end, f.grain) == (date(2025, 1, 1), date(2025, 12, 31), "quarter")
    assert f.classes == ("A", "B") and f.programme == "grow" and f.language == "sv"
    assert (f.owner, f.team, f.template_key, f.wave) == ("none", 3, "nps", 9)
    assert parsed.ignored == []
    assert parse(to_query(f, "nps", today), today).filters == f

    bad = parse("?from=2025-02-30&grain=week&class=Z&owner=-1&team=x&language=fi"
                "&survey=<script>&view=nope", today, views=("nps",))  # fmt: skip
    assert bad.filters == default_filters(today)
    assert bad.view is None
    assert len(bad.ignored) == 8
    assert any("“<script>”" in item for item in bad.ignored)
    backwards = parse("?from=2025-06-01&to=2025-01-01", today)
    assert backwards.filters == default_filters(today) and backwards.ignored


def test_values_the_controls_do_not_offer_are_dropped_and_named():
    f = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31), survey="12", wave=9,
                owner=7, team=3, classes=("A",))  # fmt: skip
    choices = {"survey": {"nps", "12"}, "owner": {"none", "5"}, "team": {"3"}}
    kept, dropped = offered(f, choices)
    assert kept == f.but(owner=None)  # the wave is not checked here: not in `choices`
    assert dropped == ["owner “7”"]
    kept, dropped = offered(f, {"wave": set()})
    assert kept == f.but(wave=None) and dropped == ["wave “9”"]
    assert offered(f.but(owner="none"), choices) == (f.but(owner="none"), [])
    assert offered(Filters(start=f.start, end=f.end), choices)[1] == []


def test_default_filters_are_the_last_twelve_months():
    f = default_filters(date(2026, 3, 15))
    assert (f.start, f.end) == (date(2025, 4, 1), date(2026, 3, 15))
    assert to_query(f, None, date(2026, 3, 15)) == ""


# --- a hand-made data set ------------------------------------------------------------------


@pytest.fixture
def world(create_customer, create_user):
    return make_world(create_customer, create_user)


def _filters(**changes):
    return Filters(start=date(2025, 1, 1), end=date(2025, 3, 31)).but(**changes)


def _nps(f):
    return nps_by_period(db.session.connection(), f, nps_templates=("nps",), tz=CPH)


def test_nps_by_month_with_known_answers(world):
    jan, feb, mar = _nps(_filters())
    assert (jan.period, jan.promoters, jan.passives, jan.detractors) == ("2025-01", 2, 1, 1)
    assert jan.estimate.value == pytest.approx(25.0)
    assert jan.change_significant is None  # the first period
    assert (feb.promoters, feb.detractors, feb.n) == (30, 11, 41)  # the 00:30 answer counts
    assert feb.estimate.value == pytest.approx(100 * 19 / 41)
    assert feb.change_significant is None  # January has fewer than 30 answers
    assert (mar.promoters, mar.detractors, mar.estimate.value) == (10, 30, -50.0)
    assert mar.change_significant is True
    assert mar.as_json() == {
        "period": "2025-03", "n": 40, "promoters": 10, "passives": 0, "detractors": 30,
        "nps": -50.0, "ci_low": round(mar.estimate.low, 1), "ci_high": round(mar.estimate.high, 1),
        "change_significant": True,
    }  # fmt: skip


def test_quarters_and_the_csi_template_left_out_of_nps(world):
    (q1,) = _nps(_filters(grain="quarter"))
    assert (q1.period, q1.n) == ("2025-Q1", 85)  # the three CSI answers are not NPS answers


def test_customer_and_survey_filters_narrow_the_answers(world):
    owner, other = world["owner"], world["other"]
    n = lambda f: sum(p.n for p in _nps(f))  # noqa: E731
    assert n(_filters()) == 85
    assert n(_filters(classes=("A",))) == 4 + 20 + 40
    assert n(_filters(classes=("C",), programme="retain")) == 21
    assert n(_filters(programme="grow", classes=("C",))) == 0
    assert n(_filters(owner=owner.id)) == 64 and n(_filters(owner="none")) == 0
    assert n(_filters(team=other.team_id)) == 21
    assert n(_filters(language="sv")) == 1
    assert n(_filters(survey="csi")) == 0
    assert n(_filters(survey=str(world["waves"]["nps"].survey_id))) == 85
    assert n(_filters(wave=world["waves"]["csi"].id)) == 0
    assert n(_filters(start=date(2025, 2, 1), end=date(2025, 2, 28))) == 41


def test_csi_by_period(world):
    jan, feb, mar = csi_by_period(db.session.connection(), _filters(), tz=CPH)
    assert (jan.estimate.n, mar.estimate.n) == (0, 0)
    assert feb.estimate.value == pytest.approx(70.0) and feb.estimate.n == 3
    assert feb.change_significant is None


def test_no_answers_at_all_gives_empty_periods():
    points = _nps(_filters())
    assert [p.n for p in points] == [0, 0, 0]
    assert all(p.estimate.value is None and p.change_significant is None for p in points)


def test_the_trend_view_renders_and_tabulates(app, world):
    from dashboards.context import make_context
    from dashboards.views.trend import VIEW

    app.config["FEEDBACK_TIMEZONE"] = "Europe/Copenhagen"
    ctx = make_context(_filters())
    tree = as_json(VIEW.render(ctx))
    assert "nps-trend" in tree and "n=41" in tree
    columns, rows = VIEW.table(ctx)
    assert columns[:3] == ["period", "nps_n", "promoters"] and len(rows) == 3
    assert rows[2][0] == "2025-03" and rows[2][8] is True


def test_a_view_plans_each_statement_for_its_own_values(app):
    """On PostgreSQL a render asks for a plan per execution (see dashboards.context): the
    generic plan made after five runs of a statement read one wave's cases more slowly."""
    from dashboards.context import make_context

    if db.engine.dialect.name != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")
    ctx = make_context(_filters())
    assert ctx.conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
    db.session.rollback()  # the setting ends with the request's transaction
    assert db.session.connection().exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"


# --- the command ---------------------------------------------------------------------------


def test_report_nps_json(runner, world):
    result = runner.invoke(args=["report", "nps", "--from", "2025-01-01", "--to", "2025-03-31",
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["period"] for r in rows] == ["2025-01", "2025-02", "2025-03"]
    assert rows[0]["nps"] == 25.0 and rows[0]["change_significant"] is None
    assert rows[2]["change_significant"] is True
    quarter = runner.invoke(args=["report", "nps", "--period", "quarter", "--from", "2025-01-01",
                                  "--to", "2025-03-31", "--class", "c", "--programme", "retain",
                                  "--json"])  # fmt: skip
    assert json.loads(quarter.output)[0]["n"] == 21


def test_report_nps_table_marks_small_periods(runner, world):
    result = runner.invoke(args=["report", "nps", "--from", "2025-01-01", "--to", "2025-03-31"])
    assert result.exit_code == 0
    assert "too few answers" in result.output.splitlines()[1]
    assert "significant" in result.output.splitlines()[3]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--class", "A,X"], "unknown class 'X'"),
        (["--period", "week"], "'week' is not one of"),
        (["--from", "2025-02-30"], "does not match the format"),
        (["--from", "2025-06-01", "--to", "2025-01-01"], "--from is after --to"),
        (["--programme", "keep"], "'keep' is not one of"),
    ],
)
def test_report_nps_bad_input(runner, args, message):
    result = runner.invoke(args=["report", "nps", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
