"""Silent customers and churn risk: wave outcomes, dated churn scores, the contact log and
follow-up alerts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.auth.models import User
from feedback.customers.models import Customer, Money
from feedback.dbtypes import BigIntPK, UTCDateTime, utcnow
from feedback.extensions import db

# answered: some contact answered; non_response: a delivered invitation went unanswered;
# opted_out: the only delivered contacts have opted out since (counted apart);
# undelivered: bounced, failed or never sent (not a non-response).
WAVE_OUTCOMES = ("answered", "non_response", "opted_out", "undelivered")
CONTACT_KINDS = ("call", "meeting", "email", "note")
CHURN_MODELS = ("fitted", "default")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WaveOutcome(db.Model):
    """How one customer (all its invited contacts together) met one closed wave.

    Written once when the wave closes (or is imported), so later opt-outs and bounces do
    not rewrite history and churn features as of a past date read what was known then."""

    __tablename__ = "wave_outcomes"
    __table_args__ = (
        CheckConstraint(_in("outcome", WAVE_OUTCOMES), name="outcome"),
        Index("ix_wave_outcomes_customer", "customer_id", "closed_at"),
    )

    wave_id: Mapped[int] = mapped_column(
        ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(12))
    invited: Mapped[int] = mapped_column(Integer)  # contacts invited in the wave
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the wave's close, for ordering
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first answer, if any


class ChurnRun(db.Model):
    """One dated computation of every customer's churn risk, with the model it used."""

    __tablename__ = "churn_runs"
    __table_args__ = (CheckConstraint(_in("model", CHURN_MODELS), name="model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, unique=True)  # features use data up to this day
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    horizon_days: Mapped[int] = mapped_column(Integer)  # "churned": no order within this
    model: Mapped[str] = mapped_column(String(8))  # fitted | default (history too short)
    # The model: {"intercept": x, "weights": {feature: w}, "means": {...}, "scales": {...}},
    # and how it was fitted: {"fitted_as_of": date, "customers": n, "churned": n, "auc": x}.
    coefficients: Mapped[dict] = mapped_column(JSON, default=dict)
    fit: Mapped[dict] = mapped_column(JSON, default=dict)
    customer_count: Mapped[int] = mapped_column(Integer, default=0)


class ChurnScore(db.Model):
    """A customer's churn risk in one run, with the reasons that moved it."""

    __tablename__ = "churn_scores"
    __table_args__ = (
        CheckConstraint("risk BETWEEN 0 AND 100", name="risk"),
        Index("ix_churn_scores_run_at_risk", "run_id", "revenue_at_risk"),
        Index("ix_churn_scores_customer", "customer_id", "run_id"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("churn_runs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    risk: Mapped[int] = mapped_column(SmallInteger)  # 0-100: probability of churn, in %
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # sentences, strongest first
    # Reason keys (",recency,nps_drop,"), for the At-risk page's reason filter.
    reason_keys: Mapped[str] = mapped_column(String(200), default="")
    revenue_12m: Mapped[Decimal] = mapped_column(Money)  # base currency
    revenue_at_risk: Mapped[Decimal] = mapped_column(Money)  # revenue_12m x risk

    run: Mapped[ChurnRun] = relationship()


class ContactLog(db.Model):
    """A follow-up contact with a customer, logged by staff (a call, a meeting…)."""

    __tablename__ = "contact_logs"
    __table_args__ = (
        CheckConstraint(_in("kind", CONTACT_KINDS), name="kind"),
        Index("ix_contact_logs_customer", "customer_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))  # call | meeting | email | note
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # when it happened
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    user: Mapped[User | None] = relationship()


class FollowupAlert(db.Model):
    """An overdue follow-up reported to the person responsible: once per overdue period,
    which the primary key (customer, the day the contact fell due) guarantees."""

    __tablename__ = "followup_alerts"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: mail not out yet
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChurnBacktest(db.Model):
    """A stored run of the churn backtest (feedback.risk.churn.backtest): how well the
    combined score, and each signal alone, foresaw who churned after a past date. Kept so
    the dashboard can show it without the many seconds the backtest takes (backtests.py)."""

    __tablename__ = "churn_backtests"
    __table_args__ = (
        CheckConstraint("horizon_days BETWEEN 30 AND 365", name="horizon_days"),
        Index("ix_churn_backtests_computed_at", "computed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)  # scored with data up to this day
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    horizon_days: Mapped[int] = mapped_column(Integer)  # churned: no order within this
    # What backtest returns: {"as_of", "horizon_days", "model", "customers", "churned",
    # "auc": {signal: x}, "auc_ci95": {signal: [low, high]}, "lift_top_decile": {signal: x}}.
    result: Mapped[dict] = mapped_column(JSON, default=dict)
