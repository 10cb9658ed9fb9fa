"""Each comment's stored analysis: its sentiment and the themes it mentions, kept by
feedback.analysis.store (the `refresh_reporting` job) so that nothing is analysed while a
page is drawn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.dbtypes import UTCDateTime
from feedback.extensions import db


class CommentAnalysis(db.Model):
    """The analysis of one response's comment (responses with an empty comment have none).
    Stale, and analysed again, when the analyser or the theme taxonomy changed (another
    fingerprint) or the response was saved again since (updated_at newer than seen)."""

    __tablename__ = "comment_analyses"
    __table_args__ = (CheckConstraint("sentiment BETWEEN -1 AND 1", name="sentiment"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    sentiment: Mapped[float] = mapped_column(Float)  # -1 (negative) .. 1 (positive)
    # store.fingerprint(): the taxonomy file's hash and the sentiment analyser's version.
    fingerprint: Mapped[str] = mapped_column(String(20))
    seen_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the response's, as read
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommentTheme(db.Model):
    """A theme an analysed comment mentions (none, one or several per comment)."""

    __tablename__ = "comment_themes"
    __table_args__ = (
        # The newest comments of one theme are a walk down this index (example comments).
        Index("ix_comment_themes_theme", "theme_key", "answered_at"),
    )

    response_id: Mapped[int] = mapped_column(
        ForeignKey("comment_analyses.response_id", ondelete="CASCADE"), primary_key=True
    )
    theme_key: Mapped[str] = mapped_column(String(40), primary_key=True)  # themes.yaml's key
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the response's, copied
