"""View 2, attitude vs behaviour: groups, revenue per customer, 12-month change, revenue
shares, the scatter and its click, on hand-made monthly facts with answers worked out by
hand, and once on facts built from real transactions and answers."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from dash import Dash

from dashboards import stats
from dashboards.context import make_context
from dashboards.filters import Filters
from dashboards.queries import behaviour as Q
from dashboards.views.behaviour import VIEW, register
from feedback.customers.models import Contact
from feedback.extensions import db
from feedback.list_filters import NO_OWNER
from feedback.reporting.build import rebuild
from feedback.reporting.groups import rebuild_group_months
from feedback.reporting.models import CustomerMonth
from tests.support.behaviour_world import TZ, make_behaviour_world
from tests.support.dash_tree import ids, prop, texts, walk
from tests.support.history import orders, survey_wave

DECEMBER = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31))
Z = 1.959964


@pytest.fixture
def world(create_user, create_customer):
    return make_behaviour_world(create_user, create_customer)


def groups(filters=DECEMBER) -> dict:
    report = Q.behaviour(db.session.connection(), filters, tz=TZ)
    return {g.group: g for g in report.groups}


def counts(filters) -> dict:
    return {k: g.customers for k, g in groups(filters).items() if g.customers}


def test_groups_revenue_and_change_per_customer(world):
    report = Q.behaviour(db.session.connection(), DECEMBER, tz=TZ)
    assert report.month == date(2025, 12, 1)
    g = {x.group: x for x in report.groups}
    assert [x.group for x in report.groups] == list(Q.GROUPS)
    assert {k: x.customers for k, x in g.items()} == {
        "promoter": 2, "passive": 1, "detractor": 2, "non-responder": 1, "not asked": 2,
    }  # fmt: skip
    assert report.total.n == 8 and report.total.revenue == 5850  # z1 bought nothing: out
    # promoters: 1000 and 3000; changes +200 and 0
    rev = g["promoter"].revenue_per_customer
    assert rev.value == 2000 and rev.n == 2
    se = math.sqrt(((1000 - 2000) ** 2 + (3000 - 2000) ** 2) / 1 / 2)  # sample sd / sqrt(n)
    assert rev.low == pytest.approx(2000 - Z * se) and rev.high == pytest.approx(2000 + Z * se)
    assert g["promoter"].change_per_customer.value == 100
    assert g["promoter"].change_pct.value == pytest.approx(100 * 200 / 3800)
    assert g["detractor"].revenue == 250
    assert g["detractor"].change_per_customer.value == -200
    assert g["detractor"].change_pct.value == pytest.approx(100 * -400 / 650)
    assert g["passive"].change_pct.value == pytest.approx(-50)
    assert g["non-responder"].change_pct.value is None  # nothing a year before
    assert g["not asked"].revenue == 700 and g["not asked"].change_pct.value == 75
    assert not g["promoter"].revenue_per_customer.enough  # n < 30


def test_revenue_share_with_the_ratio_interval_written_out(world):
    report = Q.behaviour(db.session.connection(), DECEMBER, tz=TZ)
    promoters = next(g for g in report.groups if g.group == "promoter")
    share = report.share(promoters)
    revenues = {"p1": 1000, "p2": 3000, "a1": 500, "d1": 200, "d2": 50, "n1": 400, "o1": 100,
                "u1": 600}  # fmt: skip
    total = sum(revenues.values())
    r = 4000 / total
    residuals = [(x if k in ("p1", "p2") else 0) - r * x for k, x in revenues.items()]
    n = len(revenues)
    se = math.sqrt(sum(e * e for e in residuals) / (n - 1) / n) / (total / n)
    assert share.value == pytest.approx(100 * r)
    assert share.low == pytest.approx(max(100 * (r - Z * se), 0))
    assert share.high == pytest.approx(min(100 * (r + Z * se), 100))  # a share stays in 0-100
    assert share.se == pytest.approx(100 * se)
    shares = [report.share(g).value for g in report.groups]
    assert sum(shares) == pytest.approx(100)


def test_by_class_and_group(world):
    report = Q.behaviour(db.session.connection(), DECEMBER, tz=TZ)
    assert report.classes == ["A", "B", Q.UNCLASSIFIED]
    cells = {(g.abc_class, g.group): g.customers for g in report.by_class if g.customers}
    assert cells == {("A", "promoter"): 1, ("A", "passive"): 1, ("A", "detractor"): 1,
                     ("A", "non-responder"): 1, ("B", "promoter"): 1, ("B", "detractor"): 1,
                     ("B", "not asked"): 1, ("none", "not asked"): 1}  # fmt: skip
    b_det = next(g for g in report.by_class if (g.abc_class, g.group) == ("B", "detractor"))
    assert b_det.change_pct.value == pytest.approx(100 * -400 / 600)


@pytest.mark.parametrize("change, expected", [
    ({"classes": ("A",)}, {"promoter": 1, "passive": 1, "detractor": 1, "non-responder": 1}),
    ({"programme": "grow"}, {"promoter": 1, "passive": 1}),
    ({"language": "sv"}, {"promoter": 1, "detractor": 1}),
    ({"owner": NO_OWNER}, {"non-responder": 1}),
    # survey and wave do not apply: the band is the newest answer to any NPS survey
    ({"survey": "nps", "wave": 12345}, {"promoter": 2, "passive": 1, "detractor": 2,
                                       "non-responder": 1, "not asked": 2}),
    # the period's last day picks the month: November holds only p1's row
    ({"end": date(2025, 11, 30)}, {"promoter": 1}),
])  # fmt: skip
def test_filters_narrow_the_groups(world, change, expected):
    assert counts(DECEMBER.but(**change)) == expected


def test_owner_and_team_filters(world):
    alice, bob = world["alice"], world["bob"]
    assert counts(DECEMBER.but(owner=alice.id)) == {"promoter": 1, "passive": 1,
                                                    "detractor": 1, "not asked": 1}  # fmt: skip
    assert counts(DECEMBER.but(team=bob.team_id)) == {"promoter": 1, "detractor": 1,
                                                      "not asked": 1}  # fmt: skip


def test_an_answer_counts_from_local_midnight_24_months_back(world):
    o1 = world["o1"]
    row = db.session.get(CustomerMonth, (date(2025, 12, 1), o1.id))
    row.nps_answered_at = datetime(2023, 12, 31, 23, 30, tzinfo=UTC)  # 1 Jan 2024, 00:30 CET
    rebuild_group_months(TZ)
    db.session.commit()
    assert groups()["detractor"].customers == 3
    row.nps_answered_at = datetime(2023, 12, 31, 22, 30, tzinfo=UTC)  # still 2023 locally
    rebuild_group_months(TZ)
    db.session.commit()
    assert groups()["detractor"].customers == 2


def test_scatter_all_points_and_the_sample(world):
    conn = db.session.connection()
    sc = Q.scatter(conn, DECEMBER, tz=TZ)
    # by revenue; o1's answer is too old, n1's silence outranks its answer (as in the groups)
    scored = ["p2", "p1", "a1", "d1", "d2"]
    assert [p.external_id for p in sc.points] == [f"K-{n}" for n in scored]
    assert sc.customers == 5 and sc.largest == 0
    p2 = sc.points[0]
    assert (p2.score, p2.abc_class, p2.revenue_12m, p2.change) == (10, "B", 3000.0, 0.0)
    assert p2.answered_on == date(2025, 11, 1)
    assert p2.name == "p2 <b>&</b> Co"  # plain text: the view escapes it
    sampled = Q.scatter(conn, DECEMBER, tz=TZ, limit=4, largest=2)
    assert sampled.customers == 5 and sampled.largest == 2

    def pick(name):  # the sample's fixed order: a multiplicative hash of the id
        return (world[name].id * 2654435761) % 2**32

    rest = sorted(scored[2:], key=pick)[:2]
    assert [p.external_id for p in sampled.points] == ["K-p2", "K-p1",
                                                       *[f"K-{n}" for n in rest]]  # fmt: skip
    only_sample = Q.scatter(conn, DECEMBER, tz=TZ, limit=3, largest=0)
    assert [p.external_id for p in only_sample.points] == [
        f"K-{n}" for n in sorted(scored, key=pick)[:3]
    ]
    again = Q.scatter(conn, DECEMBER, tz=TZ, limit=4, largest=2)
    # the day is the local one: 23:30 UTC on 31 October is 1 November in Copenhagen
    row = db.session.get(CustomerMonth, (date(2025, 12, 1), world["d1"].id))
    row.nps_answered_at = datetime(2025, 10, 31, 23, 30, tzinfo=UTC)
    rebuild_group_months(TZ)
    d1 = next(p for p in Q.scatter(conn, DECEMBER, tz=TZ).points if p.external_id == "K-d1")
    assert d1.answered_on == date(2025, 11, 1)
    assert again.points == sampled.points  # the same customers on every draw
    assert Q.scatter(conn, DECEMBER.but(classes=("B",)), tz=TZ).customers == 2
    swedish = Q.scatter(conn, DECEMBER.but(language="sv"), tz=TZ)
    assert [p.external_id for p in swedish.points] == ["K-p2", "K-d1"]
    assert Q.scatter(conn, DECEMBER.but(owner=world["alice"].id), tz=TZ).customers == 3


def test_a_deleted_customer_leaves_the_scatter_at_once(world):
    db.session.delete(world["p2"])
    db.session.commit()
    points = Q.scatter(db.session.connection(), DECEMBER, tz=TZ).points
    assert "K-p2" not in [p.external_id for p in points] and len(points) == 4


def test_scatter_counts_match_the_groups(world):
    """The chart's count and the bars' promoters + passives + detractors are one set."""
    for change in ({}, {"classes": ("A",)}, {"programme": "retain"}, {"language": "da"},
                   {"team": world["bob"].team_id}):  # fmt: skip
        f = DECEMBER.but(**change)
        g = groups(f)
        banded = sum(g[k].customers for k in ("promoter", "passive", "detractor"))
        assert Q.scatter(db.session.connection(), f, tz=TZ).customers == banded, change
        assert len(Q.scatter(db.session.connection(), f, tz=TZ).points) == banded


def test_render_and_table(world):
    ctx = make_context(DECEMBER)
    body = VIEW.render(ctx)
    assert {"behaviour-revenue", "behaviour-change", "behaviour-share", "behaviour-scatter",
            "behaviour-go", "behaviour-class"} <= ids(body)  # fmt: skip
    text = texts(body)
    assert "As of December 2025: 8 customers" in text
    assert "too few" in text and "Association, not cause" in text
    assert "survey and wave filters do not apply" in text
    scatter = next(c for c in walk(body) if prop(c, "id") == "behaviour-scatter")
    traces = scatter.figure["data"]
    assert {t["type"] for t in traces} == {"scattergl"}
    ids_ = [d[0] for t in traces for d in t["customdata"]]
    assert "K-p2" in ids_
    labels = " ".join(d[1] for t in traces for d in t["customdata"])
    assert "p2 &lt;b&gt;&amp;&lt;/b&gt; Co" in labels and "<b>&</b> Co" not in labels
    p2 = next(d for t in traces for d in t["customdata"] if d[0] == "K-p2")
    assert p2[2:] == [10, "1 Nov 2025", 3000, 0]  # score, local date, revenue, change
    assert all("%{customdata[1]}" in t["hovertemplate"] for t in traces)
    columns, rows = VIEW.table(ctx)
    first = dict(zip(columns, rows[0], strict=True))
    assert (first["group"], first["customers"], first["revenue_per_customer"]) == (
        "promoter", 2, 2000)  # fmt: skip
    assert first["revenue_share_pct"] == round(100 * 4000 / 5850, 1)
    assert all(len(r) == len(columns) for r in rows)
    assert [r[1] for r in rows[:5]] == list(Q.GROUPS)


def test_no_data_gives_a_clear_note():
    ctx = make_context(DECEMBER)
    text = texts(VIEW.render(ctx))
    assert "have not been built yet" in text and "feedback reporting rebuild" in text
    columns, rows = VIEW.table(ctx)
    assert [r[3] for r in rows] == [0, 0, 0, 0, 0]


def test_filters_that_match_nothing_and_a_month_not_built(world):
    text = texts(VIEW.render(make_context(DECEMBER.but(language="nb"))))
    assert "No customers who bought in the 24 months up to December 2025" in text
    text = texts(VIEW.render(make_context(DECEMBER.but(end=date(2026, 3, 1)))))
    assert "run through December 2025, not March 2026" in text


def test_the_click_runs_in_the_browser(world):
    """The click through to the customer page is a clientside callback (its cases are tried
    in Chromium, tests/browser/test_dashboard_browser.py): the server names the page."""
    dash_app = Dash(__name__)
    register(dash_app)
    assert "callback" not in dash_app.callback_map["behaviour-go.href"]  # nothing to dispatch
    body = VIEW.render(make_context(DECEMBER))
    store = next(n for n in walk(body) if prop(n, "id") == "behaviour-customer-page")
    assert prop(store, "data") == "/customers/"


def test_on_facts_built_from_transactions_and_answers(create_customer):
    """A promoter who grew, a silent customer and a detractor who stopped buying."""
    c = {name: create_customer(external_id=name, name=name) for name in ("pro", "mute", "det")}
    orders(c["pro"], [date(2025, 3, 1)], amount=1000)
    orders(c["pro"], [date(2024, 5, 1)], amount=500)
    orders(c["mute"], [date(2025, 2, 1)], amount=300)
    orders(c["det"], [date(2024, 3, 1)], amount=700)
    contacts = {}
    for name, customer in c.items():
        contacts[name] = Contact(customer_id=customer.id, email=f"{name}@x.test")
        db.session.add(contacts[name])
    db.session.commit()
    survey_wave(date(2025, 6, 10), {contacts["pro"]: 10, contacts["mute"]: "delivered",
                                    contacts["det"]: 4})  # fmt: skip
    rebuild(through=date(2025, 12, 1), base_currency="EUR", tz=TZ, nps_template_keys=["nps"])
    rebuild_group_months(TZ)
    db.session.commit()
    g = groups()
    assert g["promoter"].customers == 1 and g["promoter"].revenue == 1000
    assert g["promoter"].change_per_customer.value == 500
    assert g["non-responder"].customers == 1 and g["non-responder"].revenue == 300
    assert g["detractor"].customers == 1 and g["detractor"].revenue == 0
    assert g["detractor"].change_pct.value == -100
    body = VIEW.render(make_context(DECEMBER))
    assert "3 customers" in texts(body)
    assert stats.MIN_N > 3  # every group is too few here, and says so
    assert "too few" in texts(body)


def test_a_few_huge_changes_do_not_flatten_the_scatter():
    from dashboards.views.behaviour import _scatter_figure, y_window

    changes = [float(v) for v in range(-50, 51)] + [10_000.0, -9_000.0]
    low, high = y_window(changes)
    assert low < -49 and high > 49 and high < 100  # the bulk fills the chart
    assert y_window([float(v) for v in range(-50, 51)]) is None  # no outliers: full range
    assert y_window([1.0, 1000.0]) is None  # too few points to call any an outlier

    points = [Q.Point(i, f"K{i}", "x", "A", 5, date(2025, 6, 1), 100.0, c)
              for i, c in enumerate(changes)]  # fmt: skip
    figure = _scatter_figure(Q.Scatter(points, len(points), 0), "EUR")
    trace = figure["data"][0]
    assert max(trace["y"]) == pytest.approx(high) and min(trace["y"]) == pytest.approx(low)
    assert trace["marker"]["symbol"][0] == "circle"  # the legend shows the first
    assert trace["marker"]["symbol"][-2:] == ["triangle-up", "triangle-down"]
    assert trace["customdata"][-2][-1] == 10_000  # the hover gives the real figure
    axis_low, axis_high = figure["layout"]["yaxis"]["range"]
    assert axis_low < low < high < axis_high < 110  # the edge's triangles show whole
    assert "2 beyond the scale" in figure["layout"]["title"]["text"]
