"""ABC classes and Grow/Retain programmes on a small data set checked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from feedback.customers.models import Customer, CustomerSegment, SegmentRun
from feedback.customers.segments import recompute_segments, window_start
from feedback.customers.services import set_currency_rate
from feedback.extensions import db

AS_OF = date(2026, 6, 30)
DEFAULT = dict(
    base_currency="EUR",
    thresholds=(Decimal("0.50"), Decimal("0.30"), Decimal("0.15")),
    grow_potentials=("high", "medium"),
)


@pytest.fixture
def hand_checked(create_customer, add_transaction):
    """Total revenue 1,000 EUR in the window; shares worked out on paper in the comments."""
    set_currency_rate("SEK", "0.5", base_currency="EUR")
    db.session.commit()
    c = {
        key: create_customer(external_id=key, potential=pot)
        for key, pot in [
            ("C1", "high"),
            ("C2", "low"),
            ("C3", "medium"),
            ("C4", "low"),
            ("C5", "high"),
            ("C6", "medium"),
            ("C7", "low"),
            ("C8", "medium"),
            ("C9", "medium"),
            ("C10", "low"),
        ]
    }
    add_transaction(c["C1"], 400, date(2026, 1, 15))  # before 0 %       -> A
    add_transaction(c["C2"], 400, date(2026, 6, 30), currency="SEK")  # 200 EUR, before 40 % -> A
    add_transaction(c["C3"], 150, date(2025, 7, 1))  # before 60 %       -> B
    add_transaction(c["C4"], 120, date(2026, 3, 1))
    add_transaction(c["C4"], 20, date(2026, 3, 9), kind="credit")  # 100, before 75 % -> B
    add_transaction(c["C5"], 80, date(2026, 2, 1))  # before 85 %       -> C
    add_transaction(c["C6"], 50, date(2026, 2, 1))  # before 93 %       -> C
    add_transaction(c["C7"], 20, date(2026, 2, 1))  # before 98 %       -> D
    add_transaction(c["C8"], 999, date(2025, 6, 30))  # day before the window: not counted
    add_transaction(c["C8"], 999, date(2026, 7, 1))  # after as_of: not counted -> D, 0
    add_transaction(c["C10"], 30, date(2026, 5, 1), kind="credit")  # only a credit -> D
    return c


def _classes(run_id):
    """{external_id: (class, programme, revenue)} for one run."""
    rows = db.session.execute(
        select(Customer.external_id, CustomerSegment)
        .join(CustomerSegment, CustomerSegment.customer_id == Customer.id)
        .where(CustomerSegment.run_id == run_id)
    ).all()
    return {ext: (s.abc_class, s.programme, s.revenue_12m) for ext, s in rows}


def test_window_is_trailing_twelve_months():
    assert window_start(date(2026, 6, 30)) == date(2025, 6, 30)
    assert window_start(date(2028, 2, 29)) == date(2027, 2, 28)


def test_abc_and_programme_match_the_hand_computation(hand_checked):
    run = recompute_segments(AS_OF, **DEFAULT)
    db.session.commit()
    got = _classes(run.id)
    assert {k: v[0] for k, v in got.items()} == {
        "C1": "A",
        "C2": "A",
        "C3": "B",
        "C4": "B",
        "C5": "C",
        "C6": "C",
        "C7": "D",
        "C8": "D",
        "C9": "D",
        "C10": "D",
    }
    assert {k: v[1] for k, v in got.items()} == {
        "C1": "grow",
        "C2": "retain",
        "C3": "grow",
        "C4": "retain",
        "C5": "grow",
        "C6": "grow",
        "C7": "retain",
        "C8": "grow",
        "C9": "grow",
        "C10": "retain",
    }
    assert got["C2"][2] == Decimal("200.00")  # 400 SEK at 0.5
    assert got["C4"][2] == Decimal("100.00")  # credit subtracted
    assert got["C8"][2] == Decimal("0.00")
    assert got["C10"][2] == Decimal("-30.00")
    assert run.customer_count == 10
    assert run.total_revenue == Decimal("1000.00")
    assert run.thresholds == "50,30,15"


def test_customer_crossing_the_a_share_is_still_a(create_customer, add_transaction):
    whale, minnow = create_customer(), create_customer()
    add_transaction(whale, 900, date(2026, 1, 1))
    add_transaction(minnow, 100, date(2026, 1, 1))
    run = recompute_segments(AS_OF, **DEFAULT)
    got = _classes(run.id)
    assert got[whale.external_id][0] == "A"  # 90 % alone, yet the biggest customer is A
    assert got[minnow.external_id][0] == "C"  # 90 % before it: past A+B (80 %), within 95 %


def test_thresholds_and_grow_potentials_are_configurable(hand_checked):
    run = recompute_segments(
        AS_OF,
        base_currency="EUR",
        thresholds=(Decimal("0.30"), Decimal("0.30"), Decimal("0.30")),
        grow_potentials=("high",),
    )
    got = _classes(run.id)
    assert got["C1"][0] == "A" and got["C2"][0] == "B"  # C2 starts at 40 % > 30 %
    assert got["C3"][1] == "retain"  # medium is no longer Grow


def test_recomputing_a_date_replaces_its_snapshot(hand_checked):
    first = recompute_segments(AS_OF, **DEFAULT)
    db.session.commit()
    again = recompute_segments(AS_OF, **DEFAULT)
    db.session.commit()
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(SegmentRun)) == 1
    assert db.session.scalar(select(func.count()).select_from(CustomerSegment)) == 10


def test_snapshots_keep_class_history(hand_checked, add_transaction):
    recompute_segments(AS_OF, **DEFAULT)
    db.session.commit()
    # C7 wins a big order next month: a new dated snapshot moves it up, the old one stays.
    add_transaction(hand_checked["C7"], 2000, date(2026, 7, 10))
    later = recompute_segments(date(2026, 7, 31), **DEFAULT)
    db.session.commit()
    history = db.session.execute(
        select(SegmentRun.as_of, CustomerSegment.abc_class)
        .join(CustomerSegment.run)
        .where(CustomerSegment.customer_id == hand_checked["C7"].id)
        .order_by(SegmentRun.as_of)
    ).all()
    assert [(d.isoformat(), k) for d, k in history] == [("2026-06-30", "D"), ("2026-07-31", "A")]
    assert later.customer_count == 10


def test_no_customers_gives_an_empty_run():
    run = recompute_segments(AS_OF, **DEFAULT)
    assert run.customer_count == 0 and run.total_revenue == Decimal("0.00")
