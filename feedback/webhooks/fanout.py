"""Fan-out: outbox events into one delivery per subscribed, enabled endpoint; and forgetting
old events. See dispatch.py for the whole job."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, literal, select, text, update

from feedback.dbtypes import upsert_insert, utcnow
from feedback.extensions import db
from feedback.outbox import OutboxEvent
from feedback.webhooks.models import WebhookDelivery, WebhookEndpoint

FANOUT_BATCH = 1000
_FANOUT_LOCK = 0x77656268  # pg advisory lock key ("webh")
_QUEUED = ("endpoint_id", "event_id", "subject", "state", "attempts", "next_attempt_at",
           "created_at", "last_error")  # fmt: skip


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def ids_inline(values) -> bindparam:
    # ids written into the SQL: psycopg would rewrite a thousand placeholders one by one
    return bindparam("ids", list(values), expanding=True, literal_execute=True)


def fan_out(*, now: datetime | None = None, limit: int = FANOUT_BATCH) -> tuple[int, int]:
    """One batch of outbox events into deliveries; commits. Returns (events, deliveries)."""
    now = now or utcnow()
    # Keyed by schema too: advisory locks are per database, and two installations (or two
    # test runs) in schemas of one database must not skip each other's fan-out.
    if is_postgres() and not db.session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key, hashtext(current_schema()))"),
        {"key": _FANOUT_LOCK},
    ):
        db.session.rollback()
        return 0, 0  # another worker is fanning out right now
    waiting = (
        select(OutboxEvent.id)
        .where(OutboxEvent.fanned_out_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    claimed = db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(waiting.scalar_subquery()), OutboxEvent.fanned_out_at.is_(None))
        .values(fanned_out_at=now)
        .returning(OutboxEvent.id, OutboxEvent.type)
        .execution_options(synchronize_session=False)
    ).all()
    queued = 0
    if claimed:
        endpoints = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled))
        for endpoint in endpoints:
            ids = [event_id for event_id, type in claimed if endpoint.subscribes_to(type)]
            if ids:
                queued += _queue(endpoint.id, ids, now)
    db.session.commit()
    return len(claimed), queued


def _queue(endpoint_id: int, event_ids: list[int], now: datetime) -> int:
    table = WebhookDelivery.__table__
    source = select(
        literal(endpoint_id), OutboxEvent.id, OutboxEvent.subject, literal("pending"),
        literal(0), bindparam("due", now, type_=table.c.next_attempt_at.type),
        bindparam("made", now, type_=table.c.created_at.type), literal(""),
    ).where(OutboxEvent.id.in_(ids_inline(event_ids)))  # fmt: skip
    statement = (
        upsert_insert(table)
        .from_select(list(_QUEUED), source)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(table.c.id)
    )
    return len(db.session.execute(statement).all())


def forget_old(config, *, now: datetime) -> int:
    """Delete events (with their deliveries and attempts) older than the kept days, once
    no delivery of theirs is pending; commits. Returns the events deleted."""
    limit = now - timedelta(days=config["FEEDBACK_WEBHOOKS_KEEP_DAYS"])
    pending = exists().where(WebhookDelivery.event_id == OutboxEvent.id,
                             WebhookDelivery.state == "pending")  # fmt: skip
    old = (
        select(OutboxEvent.id)
        .where(OutboxEvent.occurred_at < limit, OutboxEvent.fanned_out_at.is_not(None), ~pending)
        .limit(10_000)
    )
    deleted = db.session.execute(
        delete(OutboxEvent).where(OutboxEvent.id.in_(old.scalar_subquery()))
    ).rowcount
    db.session.commit()
    return deleted or 0
