"""What the API keeps of its own: the first result of each idempotent write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedback.dbtypes import UTCDateTime, utcnow
from feedback.extensions import db

KEY_MAX = 255


class IdempotencyKey(db.Model):
    """A write sent with `Idempotency-Key`: stored in the same transaction as the write's
    effect, so it exists exactly when the effect does, and a retry replays `body`."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    # SHA-256 of method, path, query and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)  # a 201's Location, replayed with it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
