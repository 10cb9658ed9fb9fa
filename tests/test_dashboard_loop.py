"""View 6, the closed loop: cases per team and assignee, in time or breached, median hours
to the first action and to closing, outcomes and root causes, on hand-made cases."""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dashboards import stats
from dashboards.context import make_context
from dashboards.filters import Filters
from dashboards.queries.loop import (
    NO_TEAM,
    UNASSIGNED,
    grouped_medians,
    loop_figures,
)
from dashboards.views.loop import VIEW
from feedback.cases.models import Case
from feedback.customers.models import Contact, CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.surveys.models import Invitation, Survey, Wave
from tests.support.dash_tree import ids, texts
from tests.support.dashboard_world import rebuild_answer_facts

TZ = ZoneInfo("Europe/Copenhagen")
HALF = Filters(start=date(2025, 1, 1), end=date(2025, 6, 30))
NOW = datetime(2025, 7, 1, 12, tzinfo=UTC)


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def world(create_user, create_customer):
    """Cases k1..k7 opened in the first half of 2025, k8 before it.

    customer cA (class A grow, owner alice, Danish): k1 in time, k2 late, k3 open overdue;
    cB (class B retain, owner bob, Swedish): k4 closed without action in time, k5 open in
    time; cC (never classified, no owner, English): k6 team queue closed in time, k7 an
    open overdue churn case."""
    alice = create_user(name="Alice", team="Key")
    bob = create_user(email="bob@example.com", name="", team="Care")
    cA = create_customer(owner=alice, language="da")
    cB = create_customer(owner=bob, language="sv")
    cC = create_customer(owner=None, language="en")
    run = SegmentRun(as_of=date(2025, 6, 30), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    for customer, abc, programme in ((cA, "A", "grow"), (cB, "B", "retain")):
        db.session.add(CustomerSegment(
            run_id=run.id, customer_id=customer.id, abc_class=abc, programme=programme,
            revenue_12m=Decimal(1000), rank=1,
        ))  # fmt: skip
    nps = Survey(name="Quarterly NPS", template_key="nps")
    rel = Survey(name="Relationship", template_key="relationship")
    db.session.add_all([nps, rel])
    db.session.flush()
    waves = {}
    for survey in (nps, rel):
        waves[survey.name] = Wave(survey_id=survey.id, status="closed", audience={},
                                  sent_at=at(2025, 2, 1), closes_at=at(2025, 2, 15))  # fmt: skip
        db.session.add(waves[survey.name])
    db.session.flush()
    count = iter(range(1, 100))

    def response(customer, survey):
        n = next(count)
        contact = Contact(customer_id=customer.id, email=f"r{n}@x.test", name="R",
                          language=customer.language)  # fmt: skip
        db.session.add(contact)
        db.session.flush()
        wave = waves[survey.name]
        inv = Invitation(wave_id=wave.id, contact_id=contact.id, customer_id=customer.id,
                         token=f"t{n}", language=customer.language, state="answered",
                         sent_at=wave.sent_at)  # fmt: skip
        db.session.add(inv)
        db.session.flush()
        r = Response(invitation_id=inv.id, wave_id=wave.id, customer_id=customer.id,
                     template_version_id=1, score=3, language=customer.language,
                     answered_at=at(2025, 2, 2), updated_at=at(2025, 2, 2))  # fmt: skip
        db.session.add(r)
        db.session.flush()
        return r.id

    def case(customer, created, due_hours, *, assignee=None, team=None, first=None,
             closed=None, status="new", kind="answer", response_id=None, **extra):  # fmt: skip
        hours = lambda h: None if h is None else created + timedelta(hours=h)  # noqa: E731
        c = Case(customer_id=customer.id, response_id=response_id, rule_key="low", kind=kind,
                 title="Call back", assignee_id=assignee.id if assignee else None,
                 team_id=team if team else assignee.team_id, priority="high", status=status,
                 created_at=created, due_at=created + timedelta(hours=due_hours),
                 first_action_at=hours(first), closed_at=hours(closed), **extra)  # fmt: skip
        db.session.add(c)
        return c

    sent = {"followup_sent_at": at(2025, 3, 3)}
    case(
        cA,
        at(2025, 3, 1, 8),
        24,
        assignee=alice,
        first=2,
        closed=10,
        status="resolved",
        root_cause="delivery",
        followup_solved=True,
        response_id=response(cA, nps),
        **sent,
    )
    case(
        cA,
        at(2025, 3, 5, 8),
        24,
        assignee=alice,
        first=4,
        closed=30,
        status="resolved",
        root_cause="delivery",
        followup_solved=False,
        response_id=response(cA, nps),
        **sent,
    )
    case(cA, at(2025, 6, 1, 8), 24, assignee=alice, first=6, status="in_progress")
    case(
        cB,
        at(2025, 4, 1, 8),
        48,
        assignee=bob,
        first=20,
        closed=20,
        status="no_action",
        root_cause="price",
        response_id=response(cB, rel),
        **sent,
    )
    case(cB, at(2025, 6, 30, 8), 48, assignee=bob)  # due 2 July: open, in time at NOW
    case(cC, at(2025, 5, 1, 8), 24, team=bob.team_id, first=1, closed=12, status="resolved")
    case(cC, at(2025, 5, 10, 8), 24 * 7, assignee=alice, kind="churn_risk")
    case(cA, at(2024, 12, 15, 8), 24, assignee=alice)  # before the period
    db.session.commit()
    rebuild_answer_facts()  # the view reads case_facts
    return {"alice": alice, "bob": bob, "nps": nps, "rel": rel, "waves": waves}


def figures(row) -> tuple:
    return (row.opened, row.closed, row.closed_in_time, row.closed_late, row.open_overdue,
            row.still_open)  # fmt: skip


def report(filters=HALF):
    return loop_figures(db.session.connection(), filters, tz=TZ, now=NOW).report


def test_totals_follow_the_queue_definitions(world):
    total = report().total
    assert figures(total) == (7, 4, 3, 1, 2, 3)
    assert total.breached == 3 and total.open_in_time == 1
    share = total.in_time_share
    assert (share.value, share.n) == (pytest.approx(75.0), 4)
    assert (share.low, share.high) == tuple(
        pytest.approx(x) for x in (stats.proportion(3, 4).low, stats.proportion(3, 4).high)
    )
    assert not share.enough


def test_medians_in_elapsed_hours(world):
    total = report().total
    first, close = total.to_first_action, total.to_close
    assert (first.value, first.n) == (pytest.approx(4.0), 5)  # 1, 2, 4, 6, 20
    assert (first.low, first.high) == (pytest.approx(1.0), pytest.approx(20.0))
    assert (close.value, close.n) == (pytest.approx(16.0), 4)  # 10, 12, 20, 30


def test_per_team_and_per_assignee(world):
    r = report()
    teams = {t.label: t for t in r.teams}
    assert figures(teams["Key"]) == (4, 2, 1, 1, 2, 2)
    assert figures(teams["Care"]) == (3, 2, 2, 0, 0, 1)
    assert teams["Key"].to_first_action.value == pytest.approx(4.0)  # 2, 4, 6
    assert teams["Care"].to_first_action.value == pytest.approx(10.5)  # 1, 20
    assert teams["Care"].to_close.value == pytest.approx(16.0)  # 12, 20
    owners = {o.label: o for o in r.owners}
    assert set(owners) == {"Alice", "bob@example.com", UNASSIGNED}  # blank name: the e-mail
    assert figures(owners["bob@example.com"]) == (2, 1, 1, 0, 0, 1)
    assert figures(owners[UNASSIGNED]) == (1, 1, 1, 0, 0, 0)
    assert r.owners[-1].label == UNASSIGNED  # the team queue comes last
    assert NO_TEAM not in teams


def test_outcomes_and_root_causes(world):
    figures = loop_figures(db.session.connection(), HALF, tz=TZ, now=NOW)
    o = figures.outcomes
    assert (o.resolved, o.no_action, o.solved, o.not_solved, o.no_answer, o.not_asked) == (
        3, 1, 1, 1, 1, 1,
    )  # fmt: skip
    assert o.solved_share.value == pytest.approx(50.0) and o.solved_share.n == 2
    causes = figures.causes
    assert [(c.key, c.label, c.cases) for c in causes] == [
        ("delivery", "Delivery", 2), ("price", "Price", 1), (None, "not recorded", 1),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "opened"),
    [
        ({"classes": ("A",)}, 3),
        ({"programme": "retain"}, 2),
        ({"owner": "none"}, 1),  # on this view: unassigned (k6, in the team's queue)
        ({"language": "sv"}, 2),
        ({"survey": "nps"}, 2),  # answer cases of NPS surveys: k1, k2
        ({"start": date(2025, 6, 1)}, 2),  # k3, k5
        ({"end": date(2025, 3, 31), "start": date(2024, 12, 1)}, 3),  # k8, k1, k2
    ],
)
def test_filters_narrow_the_cases(world, change, opened):
    assert report(HALF.but(**change)).total.opened == opened


def test_filters_by_owner_team_survey_id_and_wave(world):
    alice, bob = world["alice"], world["bob"]
    # owner and team are the case's assignee and team here, not the customer's owner
    assert report(HALF.but(owner=alice.id)).total.opened == 4  # k1, k2, k3 and churn k7
    assert report(HALF.but(team=bob.team_id)).total.opened == 3  # k4, k5 and queue k6
    assert report(HALF.but(survey=str(world["rel"].id))).total.opened == 1
    wave = world["waves"]["Quarterly NPS"]
    assert figures(report(HALF.but(wave=wave.id)).total) == (2, 2, 1, 1, 0, 0)
    churn_only = report(HALF.but(owner="none", survey="nps")).total
    assert churn_only.opened == 0  # a churn case has no answer: out when a survey is chosen


def median(values: list[float]) -> stats.Estimate:
    """The view's median of one group, through grouped_medians."""
    found = grouped_medians(np.zeros(len(values), int), np.array(values), np.ones(len(values), int))
    return found.get(0, stats.EMPTY)


def weighted_median(counts: dict[float, int]) -> stats.Estimate:
    """The reference: the order statistics read off the counted values one by one."""
    n = sum(counts.values())
    if n == 0:
        return stats.EMPTY
    values = sorted(counts)
    seen = list(accumulate(counts[v] for v in values))  # how many are <= each value

    def rank(k: int) -> float:  # the k-th smallest value, 1-based
        return values[min(bisect_left(seen, k), len(values) - 1)]

    middle = rank(n // 2 + 1) if n % 2 else (rank(n // 2) + rank(n // 2 + 1)) / 2
    low = max(math.floor((n - stats.Z95 * math.sqrt(n)) / 2), 1)
    high = min(math.ceil(1 + (n + stats.Z95 * math.sqrt(n)) / 2), n)
    return stats.Estimate(middle, rank(low), rank(high), None, n)


def test_median_interval_by_hand():
    assert median([]) == stats.EMPTY
    one = median([5.0])
    assert (one.value, one.low, one.high, one.n) == (5.0, 5.0, 5.0, 1)
    values = [float(x) for x in range(1, 101)]  # 1..100
    m = median(values)
    # ranks floor((100 - 19.6) / 2) = 40 and ceil(1 + (100 + 19.6) / 2) = 61
    assert (m.value, m.low, m.high, m.n) == (50.5, 40.0, 61.0, 100)


def test_weighted_median_matches_the_sorted_list():
    """The counted form (a value and how often it occurs) gives the order statistics of
    the list it stands for, with ties and one-off values alike."""
    rng = random.Random(7)
    for _ in range(200):
        counts = {
            round(rng.uniform(0, 50), 1): rng.randint(1, 6) for _ in range(rng.randint(1, 40))
        }
        values = sorted(v for v, times in counts.items() for _ in range(times))
        n = len(values)
        low = max(math.floor((n - stats.Z95 * math.sqrt(n)) / 2), 1)
        high = min(math.ceil(1 + (n + stats.Z95 * math.sqrt(n)) / 2), n)
        middle = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
        got = weighted_median(counts)
        assert (got.value, got.low, got.high, got.n) == (
            middle,
            values[low - 1],
            values[high - 1],
            n,
        )


def test_grouped_medians_match_one_group_at_a_time():
    rng = random.Random(11)
    rows = [(rng.choice([-1, 3, 7, 12]), round(rng.uniform(0, 80), 1), rng.randint(1, 5))
            for _ in range(400)]  # fmt: skip
    groups, values, counts = (np.array(column) for column in zip(*rows, strict=True))
    found = grouped_medians(groups, values, counts)
    assert set(found) == {-1, 3, 7, 12}
    for group, estimate in found.items():
        counted: dict[float, int] = {}
        for g, value, times in rows:
            if g == group:
                counted[value] = counted.get(value, 0) + times
        assert estimate == weighted_median(counted)
    assert grouped_medians(np.array([]), np.array([]), np.array([])) == {}


def test_render_and_table(world):
    ctx = make_context(HALF)
    body = VIEW.render(ctx)
    assert {"loop-teams", "loop-owners", "loop-causes", "loop-outcomes"} <= ids(body)
    text = texts(body)
    assert "Cases opened" in text and "75.0 %" in text and "4.0 h" in text
    assert "too few" in text and "business hours" in text
    columns, rows = VIEW.table(ctx)
    assert rows[0][:5] == ["all", "all", 7, 4, 3]
    assert rows[0][columns.index("first_action_median_h")] == 4.0
    assert rows[0][columns.index("close_median_h")] == 16.0
    assert ["team", "Key"] in [r[:2] for r in rows]
    assert ["root cause", "Delivery", 2] in [r[:3] for r in rows]
    assert all(len(r) == len(columns) for r in rows)


def test_no_cases_gives_a_clear_note():
    ctx = make_context(HALF)
    assert "No cases were opened" in texts(VIEW.render(ctx))
    r = report()
    assert r.total.opened == 0 and r.teams == [] and r.owners == []
    assert r.total.to_close == stats.EMPTY
    columns, rows = VIEW.table(ctx)
    assert rows[0][:3] == ["all", "all", 0]
