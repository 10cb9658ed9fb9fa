"""What the demo generator knows and the product must not: each customer's true attitude."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db


class DemoProfile(db.Model):
    """Hidden truth behind a demo customer; survey answers in later issues are drawn from it."""

    __tablename__ = "demo_profiles"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    satisfaction: Mapped[float] = mapped_column(Float)  # 0 (furious) .. 1 (delighted)
    trajectory: Mapped[str] = mapped_column(String(12))  # growing | steady | declining | churned
