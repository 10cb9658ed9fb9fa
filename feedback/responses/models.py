"""A customer's answer to one invitation: at most one per invitation, enforced by the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
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
        # The dashboard reads the newest comments; partial, so answers without one (most,
        # and every one-tap answer as it arrives) cost nothing here.
        Index(
            "ix_responses_commented",
            "answered_at",
            postgresql_where=text("comment <> ''"),
            sqlite_where=text("comment <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: two simultaneous submissions of one invitation give one response.
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    # Copied from the invitation and its wave so reports and routing need no join through
    # them, by the statements that save answers. No foreign key of their own: the
    # invitation's already guards them (a wave goes, with its invitations, only as a whole),
    # and one on each made every answer in a burst lock the same wave and template rows (FOR
    # KEY SHARE, shared by all: multixacts), 15 % of the answering rate on PostgreSQL.
    wave_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    template_version_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[int | None] = mapped_column(Integer)  # the primary question (NPS 0-10, or 1-10)
    csi: Mapped[float | None] = mapped_column(Float)  # 0-100 when the template has CSI items
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    invitation: Mapped[Invitation] = relationship()
    template_version: Mapped[TemplateVersion] = relationship(
        primaryjoin="Response.template_version_id == TemplateVersion.id",
        foreign_keys="Response.template_version_id",
    )
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
