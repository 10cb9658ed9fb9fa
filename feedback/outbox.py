"""The outbox: events for other systems, written in the transaction of the change they report.

A feature calls `emit` (or `emit_many`) at the moment something happens, in the service that
owns the moment, before its caller commits; the event row then exists if and only if the
change committed. The webhooks job (feedback/webhooks/dispatch.py) reads the outbox later.
This module imports no feature; features import it.

Every payload has the Standard Webhooks shape `{"type", "timestamp", "data"}` and carries no
more personal data than its event needs: ids, the customer's number and (company) name, a
link to the staff page; never a contact's name or e-mail address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import JSON, Index, String, insert, text
from sqlalchemy.orm import Mapped, mapped_column

from feedback.dbtypes import BigIntPK, UTCDateTime, utcnow
from feedback.extensions import db

EVENT_TYPES = (
    "response.created",
    "response.updated",
    "case.created",
    "case.breached",
    "case.resolved",
    "contact.opted_out",
    "churn.high_risk",
)


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"
    __table_args__ = (
        # The fan-out's "not fanned out yet, oldest first"; partial, so it stays small.
        Index(
            "ix_outbox_events_waiting",
            "id",
            postgresql_where=text("fanned_out_at IS NULL"),
            sqlite_where=text("fanned_out_at IS NULL"),
        ),
        Index("ix_outbox_events_subject", "type", "subject"),
        Index("ix_outbox_events_occurred", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))  # one of EVENT_TYPES
    # The ordering key: deliveries of one subject reach an endpoint in order ("case:42").
    subject: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)  # {"type", "timestamp", "data"}: the body sent
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # deliveries made


def stamp(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds and a Z, as in every payload (and PostgreSQL's
    to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') in the answer lane)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def staff_url(path: str, base_url: str | None = None) -> str:
    """An absolute link to a staff page (FEEDBACK_BASE_URL + path)."""
    if base_url is None:
        from flask import current_app

        base_url = current_app.config["FEEDBACK_BASE_URL"]
    return base_url.rstrip("/") + path


def customer_path(external_id: str) -> str:
    """The customer page's path; ERP numbers may hold a slash, which the route accepts."""
    return "/customers/" + quote(external_id, safe="/")


def envelope(type: str, data: dict, occurred_at: datetime) -> dict:
    return {"type": type, "timestamp": stamp(occurred_at), "data": data}


def _row(type: str, subject: str, data: dict, occurred_at: datetime | None) -> dict:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    occurred_at = occurred_at or utcnow()
    return {"type": type, "subject": subject, "payload": envelope(type, data, occurred_at),
            "occurred_at": occurred_at}  # fmt: skip


def emit(type: str, subject: str, payload: dict, *, occurred_at: datetime | None = None) -> None:
    """Add one event to the session (the caller's transaction); `payload` is its data."""
    db.session.add(OutboxEvent(**_row(type, subject, payload, occurred_at)))


def emit_many(events: list[tuple[str, str, dict]], *, occurred_at: datetime | None = None) -> int:
    """Insert many (type, subject, data) events in one executemany, in list order."""
    if not events:
        return 0
    rows = [_row(type, subject, data, occurred_at) for type, subject, data in events]
    db.session.execute(insert(OutboxEvent), rows)
    return len(rows)
