"""Monthly customer facts with answers worked out by hand, for view 2 (attitude vs
behaviour): shared by its query tests and the browser test of the scatter's click."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.reporting.groups import rebuild_group_months
from feedback.reporting.models import CustomerMonth

TZ = ZoneInfo("Europe/Copenhagen")


def at(*parts) -> datetime:
    return datetime(*parts, 12, tzinfo=UTC)


# name: (class, programme, owner, language, revenue_12m, revenue_prev_12m, score, answered,
#        waves_12m, answered_12m)
CUSTOMERS = {
    "p1": ("A", "grow", "alice", "da", 1000, 800, 9, at(2025, 6, 1), 1, 1),  # promoter
    "p2": ("B", "retain", "bob", "sv", 3000, 3000, 10, at(2025, 11, 1), 1, 1),  # promoter
    "a1": ("A", "grow", "alice", "da", 500, 1000, 7, at(2025, 3, 1), 0, 0),  # passive
    "d1": ("B", "retain", "bob", "sv", 200, 600, 3, at(2025, 10, 1), 1, 1),  # detractor
    "d2": ("A", "retain", "alice", "da", 50, 50, 5, at(2025, 9, 1), 1, 1),  # detractor
    # answered 18 months ago, silent in two waves since: a non-responder, not a promoter
    "n1": ("A", "retain", None, "en", 400, 0, 10, at(2024, 6, 1), 2, 0),
    "o1": ("B", "retain", "alice", "en", 100, 100, 2, at(2023, 6, 1), 0, 0),  # too old
    "u1": (None, None, "bob", "en", 600, 300, None, None, 0, 0),  # no class, never asked
    "z1": ("A", "grow", "alice", "da", 0, 0, 9, at(2025, 6, 1), 1, 1),  # no revenue: out
}


def make_behaviour_world(create_user, create_customer) -> dict:
    """The customers above with their facts for December 2025 (and p1's for November)."""
    users = {"alice": create_user(name="Alice", team="Key"),
             "bob": create_user(name="Bob", team="Care")}  # fmt: skip
    run = SegmentRun(as_of=date(2025, 12, 1), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    made = {}
    for name, (abc, programme, owner, language, rev, prev, score, answered, waves,
               answers) in CUSTOMERS.items():  # fmt: skip
        customer = create_customer(external_id=f"K-{name}", name=f"{name} <b>&</b> Co",
                                   owner=users.get(owner), language=language)  # fmt: skip
        made[name] = customer
        if abc:
            db.session.add(CustomerSegment(run_id=run.id, customer_id=customer.id,
                                           revenue_12m=Decimal(rev), abc_class=abc,
                                           programme=programme, rank=1))  # fmt: skip
        db.session.add(_month(customer, date(2025, 12, 1), rev, prev, score, answered, waves,
                              answers))  # fmt: skip
    db.session.add(_month(made["p1"], date(2025, 11, 1), 900, 800, 9, at(2025, 6, 1), 1, 1))
    db.session.commit()
    rebuild_group_months(TZ)  # the groups come from group_months
    return {**made, **users}


def _month(customer, month, rev, prev, score, answered, waves, answers):
    return CustomerMonth(month=month, customer_id=customer.id, revenue=Decimal(0), orders=0,
                         revenue_12m=Decimal(rev), revenue_prev_12m=Decimal(prev),
                         last_order_on=None, nps_score=score, nps_answered_at=answered,
                         waves_12m=waves, answered_12m=answers)  # fmt: skip
