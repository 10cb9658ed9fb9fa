"""The demo's follow-up contacts: a year of calls, meetings, e-mails and notes logged by the
people responsible, mostly on time, so the Follow-ups page shows a team at work with a few
customers slipping, not every key account forgotten.

Per customer followed up in person (not `automated`), contacts go back from a last one
drawn between today and 1.3 periods ago (so about a fifth are overdue), one per period, at
most a year back and twelve entries. Unhappy customers are contacted a little more often
(their owners worry), leavers less (nobody answers the phone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import and_, select

from feedback.auth.models import Team, User
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.demo.models import DemoProfile
from feedback.followups.programme import load_programme
from feedback.risk.models import CONTACT_KINDS, ContactLog

MAX_ENTRIES = 12
NOTES = {
    "call": (
        "Called about next quarter's volumes; no changes planned.",
        "Checked in after the last delivery; all fine.",
        "Called, left a message; they called back the next day.",
        "Discussed the price list for next year; they want a meeting.",
    ),
    "meeting": (
        "Quarterly meeting at their office: delivery windows and the new product line.",
        "Visited the warehouse; they are expanding in the spring.",
    ),
    "email": ("Sent the new catalogue and the updated terms.", ""),
    "note": ("Their purchasing manager is changing; new contact from next month.", ""),
}


def _period_days(rule) -> int:
    return rule.count * {"day": 1, "week": 7, "month": 30}[rule.unit]


def seed_followups(config, rng: np.random.Generator, today: date) -> int:
    """Write the demo's contact log; flushes. Returns the entries written."""
    from feedback.extensions import db

    programme = load_programme(config["FEEDBACK_FOLLOWUP_FILE"])
    team_members: dict[str, list[int]] = {}
    for team_name, user_id in db.session.execute(
        select(Team.name, User.id).join(User, User.team_id == Team.id).where(User.active)
    ):
        team_members.setdefault(team_name, []).append(user_id)
    segment = and_(CustomerSegment.customer_id == Customer.id,
                   CustomerSegment.run_id == latest_run_id())  # fmt: skip
    customers = db.session.execute(
        select(Customer.id, Customer.owner_id, CustomerSegment.abc_class,
               CustomerSegment.programme, DemoProfile.satisfaction, DemoProfile.trajectory)
        .select_from(Customer)
        .join(CustomerSegment, segment)
        .join(DemoProfile, DemoProfile.customer_id == Customer.id)
        .order_by(Customer.id)
    ).all()  # fmt: skip
    rows = []
    kinds = np.array(CONTACT_KINDS)
    for customer_id, owner_id, klass, prog, satisfaction, trajectory in customers:
        rule = programme.rule(klass, prog)
        if rule is None or rule.automated:
            continue
        if rule.by == "owner" and owner_id is not None:
            who = [owner_id]
        else:
            who = team_members.get(rule.team or rule.fallback_team or "", [])
        if not who:
            continue
        period = _period_days(rule)
        keenness = 0.85 + 0.3 * (1 - satisfaction) - (0.4 if trajectory == "churned" else 0)
        last = rng.uniform(0, 1.3 * period) / max(keenness, 0.3)
        ago = [last + k * period * rng.uniform(0.8, 1.1) for k in range(MAX_ENTRIES)]
        for days in (d for d in ago if d <= 365):
            kind = str(kinds[rng.choice(len(kinds), p=(0.5, 0.15, 0.25, 0.1))])
            notes = NOTES[kind]
            day = today - timedelta(days=max(1, int(days)))  # logged afterwards: never today
            at = datetime.combine(day, time(9), UTC) + timedelta(
                minutes=int(rng.integers(0, 8 * 60))
            )
            rows.append({
                "customer_id": customer_id, "user_id": who[int(rng.integers(len(who)))],
                "kind": kind, "at": at, "note": notes[int(rng.integers(len(notes)))],
                "created_at": at,
            })  # fmt: skip
    for start in range(0, len(rows), 5000):
        db.session.execute(ContactLog.__table__.insert(), rows[start : start + 5000])
    db.session.flush()
    return len(rows)
