"""A customer's answer to one invitation: at most one per invitation, enforced by the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.dbtypes import UTCDateTime, utcnow
from feedback.extensions import db
from feedback.surveys.models import Invitation, TemplateVersion


class Response(db.Model):
    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 10", name="score"),
        CheckConstraint("csi BETWEEN 0 AND 100", name="csi"),
        Index("ix_responses_wave", "wave_id", "answered_at"),
        Index("ix_responses_customer", "customer_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: two simultaneous submissions of one invitation give one response.
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    # Copied from the invitation so reports and routing need no join through it.
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    score: Mapped[int | None] = mapped_column(Integer)  # the primary question (NPS 0-10, or 1-10)
    csi: Mapped[float | None] = mapped_column(Float)  # 0-100 when the template has CSI items
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    invitation: Mapped[Invitation] = relationship()
    template_version: Mapped[TemplateVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.question_key"
    )


class Answer(db.Model):
    """One scored question of a response (the primary score is also on the response)."""

    __tablename__ = "answers"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="answers")
