"""The webhooks job: fan the outbox out into deliveries, then deliver what is due.

Fan-out takes outbox events not fanned out yet, oldest first, marks them (a guarded UPDATE:
`fanned_out_at IS NULL -> now`, and on PostgreSQL under a transaction-level advisory lock,
so one worker at a time fans out, in event order) and inserts one delivery per enabled
endpoint subscribed to the type with INSERT ... SELECT ... ON CONFLICT DO NOTHING on
(endpoint, event): an event reaches an endpoint once however many workers run.

Delivery claims up to 100 due pending deliveries by moving their next attempt a lease ahead
(on PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED; on SQLite the UPDATE is
the lock), commits the claim, POSTs them, and writes every attempt and state change in two
executemany statements. A delivery is claimed only when no older delivery of the same
endpoint and subject (`case:42`) is pending: per endpoint, a case's events arrive in order.
A worker that dies mid-batch leaves its deliveries to be claimed again when the lease ends
(at least once). Failures retry on the Standard Webhooks schedule (5 s, 5 min, 30 min, 2 h,
5 h, 10 h, 10 h, each ±10 %), then the delivery has failed. An endpoint whose every attempt
has failed for FEEDBACK_WEBHOOKS_DISABLE_AFTER hours is disabled and its admin told by mail.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.orm import aliased

from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.outbox import OutboxEvent
from feedback.webhooks import sender
from feedback.webhooks.fanout import FANOUT_BATCH, fan_out, forget_old, ids_inline, is_postgres
from feedback.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

RETRY_DELAYS = tuple(
    timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000)
)  # after the 1st, 2nd ... failed attempt; 8 attempts in all, about 27.5 hours
JITTER = 0.1
BATCH = 100


@dataclass
class DeliveryReport:
    events: int = 0  # fanned out
    queued: int = 0  # deliveries created
    sent: int = 0  # attempts made
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0  # gave up
    disabled: int = 0  # endpoints

    def summary(self) -> str:
        return (f"{self.events} events fanned out into {self.queued} deliveries; {self.sent} "
                f"sent: {self.succeeded} succeeded, {self.retrying} to retry, {self.failed} "
                f"failed; {self.disabled} endpoints disabled")  # fmt: skip


def _threads(config) -> int:
    return max(1, int(config.get("FEEDBACK_WEBHOOKS_THREADS", 1)))


def _lease(config) -> timedelta:
    """How long a claimed batch is this worker's: every POST timing out, and a margin."""
    rounds = -(-BATCH // _threads(config))
    return timedelta(seconds=config["FEEDBACK_WEBHOOKS_TIMEOUT"] * rounds + 60)


def claim(config, *, now: datetime, limit: int = BATCH) -> list[int]:
    """Claim due deliveries, at most one per endpoint and subject; commits the claim."""
    delivery = WebhookDelivery
    older = aliased(WebhookDelivery)
    waits = exists().where(
        older.endpoint_id == delivery.endpoint_id, older.subject == delivery.subject,
        older.state == "pending", older.event_id < delivery.event_id,
    )  # fmt: skip
    due = (
        select(delivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == delivery.endpoint_id)
        .where(
            delivery.state == "pending",
            delivery.next_attempt_at <= now,
            WebhookEndpoint.enabled,
            ~waits,
        )  # fmt: skip
        .order_by(delivery.next_attempt_at, delivery.id)
        .limit(limit)
    )
    if is_postgres():
        due = due.with_for_update(of=delivery, skip_locked=True)
    # A materialised CTE, joined: as `id IN (subquery)` PostgreSQL may run the locking
    # subquery once per row of the table (a SubPlan with FOR UPDATE is never hashed).
    due = due.cte("due").prefix_with("MATERIALIZED")
    ids = db.session.scalars(
        update(delivery)
        .where(
            delivery.id == due.c.id,
            delivery.state == "pending",
            delivery.next_attempt_at <= now,
        )  # fmt: skip
        .values(next_attempt_at=now + _lease(config))
        .returning(delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(ids)


def _jobs(ids: list[int], now: datetime) -> tuple[list[tuple], dict[int, tuple[int, int]]]:
    """(delivery id, url, body, headers) of each claimed delivery, signed now; and each
    delivery's (endpoint id, attempts so far)."""
    rows = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.attempts,
               WebhookDelivery.event_id, OutboxEvent.payload,
               WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.previous_secret,
               WebhookEndpoint.previous_secret_expires_at)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids_inline(ids)))
        .order_by(WebhookDelivery.id)
    ).all()  # fmt: skip
    db.session.commit()  # no transaction stays open while we wait on the network
    jobs, known = [], {}
    for (delivery_id, endpoint_id, attempts, event_id, payload, url, secret, previous,
         expires) in rows:  # fmt: skip
        secrets = [secret] + ([previous] if previous and expires and expires > now else [])
        body = sender.body_of(payload)
        headers = sender.signed_headers(sender.message_id(event_id), body, secrets, now)
        jobs.append((delivery_id, url, body, headers))
        known[delivery_id] = (endpoint_id, attempts)
    return jobs, known


def _send(jobs: list[tuple], *, timeout: float, threads: int) -> list[sender.Outcome]:
    session = sender.http_session()

    def one(job):
        delivery_id, url, body, headers = job
        return sender.post(session, delivery_id, url, body, headers, timeout=timeout,
                           attempted_at=utcnow())  # fmt: skip

    if threads <= 1 or len(jobs) <= 1:
        return [one(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, jobs))


def _next_attempt(attempts: int, moment: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None: give up."""
    if attempts > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[attempts - 1].total_seconds()
    return moment + timedelta(seconds=delay * random.uniform(1 - JITTER, 1 + JITTER))


def record(outcomes: list[sender.Outcome], known: dict[int, tuple[int, int]],
           report: DeliveryReport) -> None:  # fmt: skip
    """Write the attempts and the deliveries' new states in two executemany statements."""
    if not outcomes:
        return
    db.session.execute(insert(WebhookAttempt), [
        {"delivery_id": o.delivery_id, "attempted_at": o.attempted_at, "status_code": o.status,
         "duration_ms": o.duration_ms, "error": o.error[:500], "response_excerpt": o.excerpt}
        for o in outcomes
    ])  # fmt: skip
    changes = []
    for o in outcomes:
        attempts = known[o.delivery_id][1] + 1
        retry = None if o.ok else _next_attempt(attempts, o.attempted_at)
        state = "succeeded" if o.ok else ("pending" if retry else "failed")
        report.succeeded += state == "succeeded"
        report.retrying += state == "pending"
        report.failed += state == "failed"
        changes.append({
            "b_id": o.delivery_id, "b_state": state, "b_attempts": attempts, "b_next": retry,
            "b_status": o.status, "b_error": o.error[:500], "b_ms": o.duration_ms,
            "b_done": o.attempted_at if o.ok else None,
        })  # fmt: skip
    table = WebhookDelivery.__table__
    db.session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(state=bindparam("b_state"), attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"), last_status=bindparam("b_status"),
                last_error=bindparam("b_error"), last_duration_ms=bindparam("b_ms"),
                delivered_at=bindparam("b_done")),
        changes,
    )  # fmt: skip
    report.sent += len(outcomes)


def _track_failures(config, outcomes: list[sender.Outcome], known: dict[int, tuple[int, int]],
                    *, now: datetime) -> list[int]:  # fmt: skip
    """Clear the failure clock of endpoints that answered 2xx, start it for those that only
    failed; returns the endpoints now failing for longer than the configured hours."""
    alive, failing = set(), {}
    for o in outcomes:
        endpoint_id = known[o.delivery_id][0]
        if o.ok:
            alive.add(endpoint_id)
        else:
            failing[endpoint_id] = min(failing.get(endpoint_id, o.attempted_at), o.attempted_at)
    endpoint = WebhookEndpoint
    if alive:
        db.session.execute(update(endpoint)
                           .where(endpoint.id.in_(alive), endpoint.failing_since.is_not(None))
                           .values(failing_since=None)
                           .execution_options(synchronize_session=False))  # fmt: skip
    for endpoint_id, since in failing.items():
        if endpoint_id not in alive:
            db.session.execute(
                update(endpoint)
                .where(endpoint.id == endpoint_id, endpoint.failing_since.is_(None))
                .values(failing_since=since)
                .execution_options(synchronize_session=False)
            )
    latest = max(now, *(o.attempted_at for o in outcomes))
    limit = latest - timedelta(hours=config["FEEDBACK_WEBHOOKS_DISABLE_AFTER"])
    candidates = [e for e in failing if e not in alive]
    if not candidates:
        return []
    return list(db.session.scalars(
        select(endpoint.id).where(endpoint.id.in_(candidates), endpoint.enabled,
                                  endpoint.failing_since <= limit)
    ))  # fmt: skip


def deliver_batch(config, report: DeliveryReport, *,
                  now: datetime | None = None) -> tuple[int, list[int]]:  # fmt: skip
    """Claim, send and record one batch; commits. Returns (sent, endpoints to disable)."""
    fixed_clock = now is not None  # a test's clock: every attempt happens at `now`
    now = now or utcnow()
    ids = claim(config, now=now)
    if not ids:
        return 0, []
    jobs, known = _jobs(ids, now)
    outcomes = _send(jobs, timeout=config["FEEDBACK_WEBHOOKS_TIMEOUT"], threads=_threads(config))
    if fixed_clock:
        outcomes = [sender.Outcome(o.delivery_id, now, o.status, o.duration_ms, o.error,
                                   o.excerpt) for o in outcomes]  # fmt: skip
    record(outcomes, known, report)
    doomed = _track_failures(config, outcomes, known, now=now)
    db.session.commit()
    return len(outcomes), doomed


def run(config, *, now: datetime | None = None, backend=None,
        budget_seconds: float = 50.0) -> DeliveryReport:  # fmt: skip
    """Fan out and deliver until nothing is due or the time budget is spent (the next run
    goes on). `now` fixes the clock (tests); `backend` sends the disable mail (default: the
    configured one)."""
    from feedback.webhooks.alerts import disable_failing

    report = DeliveryReport()
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds:
        events, queued = fan_out(now=now)
        report.events += events
        report.queued += queued
        if events < FANOUT_BATCH:
            break
    while time.monotonic() - started < budget_seconds:
        sent, doomed = deliver_batch(config, report, now=now)
        if doomed:
            report.disabled += disable_failing(config, doomed, now=now or utcnow(),
                                               backend=backend)  # fmt: skip
        if not sent:
            break
    forget_old(config, now=now or utcnow())
    return report
