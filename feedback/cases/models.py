"""Cases: a named person must act on a customer's answer before a deadline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.auth.models import Team, User
from feedback.customers.models import Customer
from feedback.dbtypes import BigIntPK, UTCDateTime, utcnow
from feedback.extensions import db
from feedback.responses.models import Response

PRIORITIES = ("urgent", "high", "normal", "low")
# answer: made by routing an answer; churn_risk: made by the churn job for a silent account.
CASE_KINDS = ("answer", "churn_risk")
CASE_STATUSES = ("new", "in_progress", "waiting_on_customer", "resolved", "no_action")
OPEN_STATUSES = ("new", "in_progress", "waiting_on_customer")
CLOSED_STATUSES = ("resolved", "no_action")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def status_in(statuses: tuple[str, ...]):
    """`status IN (...)` with the values written into the SQL, in this order: SQLite uses a
    partial index (ix_cases_open_due, ix_cases_closed) only when the query repeats its
    WHERE term, which a bound parameter never does."""
    return Case.status.in_(bindparam(f"status_{len(statuses)}_{statuses[0]}", list(statuses),
                                     expanding=True, literal_execute=True))  # fmt: skip


_OPEN = _in("status", OPEN_STATUSES)
_CLOSED = _in("status", CLOSED_STATUSES)


class RoutingDecision(db.Model):
    """What the routing rules decided for one response: a rule (and so a case) or none.

    The primary key makes routing idempotent: a response is decided once, however many
    times or in how many processes the routing job runs.
    """

    __tablename__ = "routing_decisions"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    rule_key: Mapped[str | None] = mapped_column(String(60))  # None: no rule matched
    reason: Mapped[str] = mapped_column(String(500), default="")  # why it matched, for explain
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        CheckConstraint(_in("kind", CASE_KINDS), name="kind"),
        # Never unassigned: a person, or at least a team queue.
        CheckConstraint("assignee_id IS NOT NULL OR team_id IS NOT NULL", name="assigned"),
        UniqueConstraint("response_id"),  # one case per response
        Index("ix_cases_status_due", "status", "due_at"),
        # The queue's "everything open, soonest due first" without sorting every open case.
        Index(
            "ix_cases_open_due",
            "due_at",
            "id",
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),  # fmt: skip
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_team_status", "team_id", "status"),
        Index("ix_cases_customer", "customer_id", "created_at"),
        # The closed list (latest first) and the closed-loop figures' 90-day window.
        Index(
            "ix_cases_closed",
            "closed_at",
            postgresql_where=text(_CLOSED),
            sqlite_where=text(_CLOSED),
        ),  # fmt: skip
        Index("ix_cases_created", "created_at"),
        # At most one open churn case per customer, whatever runs the churn job.
        Index(
            "uq_cases_open_churn",
            "customer_id",
            unique=True,
            postgresql_where=text(f"kind = 'churn_risk' AND {_OPEN}"),
            sqlite_where=text(f"kind = 'churn_risk' AND {_OPEN}"),
        ),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"))
    rule_key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12), default="answer", server_default="answer")
    title: Mapped[str] = mapped_column(String(300))  # what to do, from the rule
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="new")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")  # required to resolve
    root_cause: Mapped[str | None] = mapped_column(String(40))  # a theme key
    # The comment's themes when the case was made, kept so the queue can filter on them:
    # ",delivery,price," (commas around each key, for a plain LIKE).
    themes: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set once, on breach
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # assignee e-mailed
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # customer e-mailed
    # The optional "did we solve it?" follow-up after resolving: its link token and answer.
    followup_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    followup_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_solved: Mapped[bool | None] = mapped_column()
    followup_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    response: Mapped[Response | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    team: Mapped[Team | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_breached(self, now: datetime) -> bool:
        return self.is_open() and self.due_at < now


class CaseEvent(db.Model):
    """The case's history: who did what, when."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # created | assigned | status | comment | resolved | escalated | notified | acknowledged
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
