"""Template versions, surveys, waves, invitations and their state history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.auth.models import User
from feedback.customers.models import Contact, Customer
from feedback.dbtypes import BigIntPK, UTCDateTime, utcnow
from feedback.extensions import db

WAVE_STATUSES = ("draft", "scheduled", "sending", "open", "closed")
# pending: chosen, not yet handed to the mail backend; sending: claimed by one job run;
# failed: the backend refused it for good (bad address at send time, for instance).
INVITATION_STATES = ("pending", "sending", "sent", "delivered", "bounced", "answered", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TemplateVersion(db.Model):
    """A frozen copy of a template's texts; a response records the version it answered."""

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_key", "version"),
        UniqueConstraint("template_key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per template key
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical content
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Survey(db.Model):
    """A named use of a template, e.g. "Relationship survey 2026"."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    template_key: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    waves: Mapped[list[Wave]] = relationship(back_populates="survey", order_by="Wave.id")


class Wave(db.Model):
    """One sending of a survey to an audience, with reminders and a closing time."""

    __tablename__ = "waves"
    __table_args__ = (
        CheckConstraint(_in("status", WAVE_STATUSES), name="status"),
        CheckConstraint("max_reminders >= 0", name="max_reminders"),
        # An imported wave is found again by its key ("2024-03", or the file's wave name),
        # so importing the same history twice adds nothing.
        UniqueConstraint("survey_id", "import_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # The audience filter as chosen: {"classes": [...], "programme": ..., "languages": [...],
    # "owner_ids": [...], "customer_ids": [...]}; empty keys mean "no restriction".
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_versions.id"))
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: as soon as sent
    reminder_days: Mapped[str] = mapped_column(String(40), default="3,7")  # days after sending
    max_reminders: Mapped[int] = mapped_column(Integer, default=2)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # invitations first went out
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    import_key: Mapped[str | None] = mapped_column(String(100))  # set on imported history
    # When each customer's outcome (answered, non-response…) was recorded; see risk.
    outcomes_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship(back_populates="waves")
    template_version: Mapped[TemplateVersion | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        """How people refer to a wave: by when it went out (ids mean nothing to them)."""
        if self.sent_at:
            return f"Wave of {self.sent_at:%-d %b %Y}"
        if self.send_at:
            return f"Wave scheduled for {self.send_at:%-d %b %Y}"
        return f"Draft wave #{self.id}"

    @property
    def reminder_offsets(self) -> list[int]:
        days = [int(d) for d in self.reminder_days.split(",") if d.strip()]
        return days[: self.max_reminders]


class Invitation(db.Model):
    """One contact invited in one wave; the token in its links is the only key to it."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("wave_id", "contact_id"),
        CheckConstraint(_in("state", INVITATION_STATES), name="state"),
        Index("ix_invitations_wave_state", "wave_id", "state"),
        Index("ix_invitations_contact_sent", "contact_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)  # 256 random bits, url-safe
    language: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # A job run that is sending this invitation (or its reminder) right now; see jobs.
    claim: Mapped[str | None] = mapped_column(String(36), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    wave: Mapped[Wave] = relationship()
    contact: Mapped[Contact] = relationship()
    customer: Mapped[Customer] = relationship()


class InvitationEvent(db.Model):
    """The state history of an invitation: sent, reminded, delivered, bounced, answered…"""

    __tablename__ = "invitation_events"
    __table_args__ = (Index("ix_invitation_events_invitation", "invitation_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # sent | reminded | delivered | bounce | ...
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str] = mapped_column(String(500), default="")
    # SendGrid's sg_event_id for webhook events: a repeated delivery of one event is ignored.
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
