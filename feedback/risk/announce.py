"""churn.high_risk: a customer entered the high-risk band in today's churn run.

"High" is the staff pages' level (a risk of 60 % or more, as on the At-risk page and the
dashboard's revenue at risk). A customer crosses when today's run scores them high and the
previous run (the latest one dated before) did not, or did not score them at all. Each
crossing is announced once: recomputing today again finds the event already written since
the previous run and adds none; a customer who stays high is not announced every week.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from feedback.customers.models import Customer
from feedback.extensions import db
from feedback.outbox import OutboxEvent, customer_path, emit_many, staff_url
from feedback.risk import HIGH_RISK
from feedback.risk.models import ChurnRun, ChurnScore


def announce_high_risk(run: ChurnRun, *, now: datetime) -> int:
    """Emit churn.high_risk for each crossing into the high band in `run`; flushes nothing,
    the caller commits. Returns the events written."""
    previous = db.session.execute(
        select(ChurnRun.id, ChurnRun.computed_at)
        .where(ChurnRun.as_of < run.as_of)
        .order_by(ChurnRun.as_of.desc())
        .limit(1)
    ).first()
    before = aliased(ChurnScore)
    joined = and_(before.customer_id == ChurnScore.customer_id,
                  before.run_id == (previous.id if previous else -1))  # fmt: skip
    rows = db.session.execute(
        select(ChurnScore.customer_id, ChurnScore.risk, ChurnScore.reasons, before.risk,
               Customer.external_id, Customer.name)
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .outerjoin(before, joined)
        .where(ChurnScore.run_id == run.id, ChurnScore.risk >= HIGH_RISK,
               (before.risk.is_(None)) | (before.risk < HIGH_RISK))
        .order_by(ChurnScore.customer_id)
    ).all()  # fmt: skip
    if not rows:
        return 0
    since = previous.computed_at if previous else datetime(1970, 1, 1, tzinfo=UTC)
    announced = set()
    subjects = [f"customer:{row[0]}" for row in rows]
    for start in range(0, len(subjects), 5000):
        announced.update(
            db.session.scalars(
                select(OutboxEvent.subject).where(
                    OutboxEvent.type == "churn.high_risk",
                    OutboxEvent.subject.in_(subjects[start : start + 5000]),
                    OutboxEvent.occurred_at >= since,
                )
            )
        )
    base = staff_url("")
    events = [
        ("churn.high_risk", f"customer:{customer_id}", {
            "customer": {"id": customer_id, "external_id": external_id, "name": name},
            "risk": risk, "previous_risk": previous_risk, "as_of": run.as_of.isoformat(),
            "reasons": list(reasons or []), "url": base + customer_path(external_id),
        })
        for customer_id, risk, reasons, previous_risk, external_id, name in rows
        if f"customer:{customer_id}" not in announced
    ]  # fmt: skip
    return emit_many(events, occurred_at=now)
