"""Customers, their contacts, their transactions (and batches of them on their way in through
the API), currency rates and segment snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.auth.models import User
from feedback.dbtypes import BigIntPK, UTCDateTime, utcnow
from feedback.extensions import db

POTENTIALS = ("high", "medium", "low")
LANGUAGES = ("en", "da", "sv", "nb")
CONTACT_STATUSES = ("active", "opted_out", "bounced")
TRANSACTION_KINDS = ("order", "credit")
BATCH_STATUSES = ("open", "committed", "abandoned")
ABC_CLASSES = ("A", "B", "C", "D")
PROGRAMMES = ("grow", "retain")

Money = Numeric(18, 2)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_in("potential", POTENTIALS), name="potential"),
        CheckConstraint(_in("language", LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)  # the ERP's customer number
    name: Mapped[str] = mapped_column(String(300), index=True)
    # The named owner (navngivet kundeansvarlig); empty until someone is given the account.
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    potential: Mapped[str] = mapped_column(String(8), default="medium")  # high | medium | low
    language: Mapped[str] = mapped_column(String(2), default="en")  # en | da | sv | nb
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", order_by="Contact.name", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Customer {self.external_id} {self.name}>"


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("customer_id", "email"),
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint(_in("status", CONTACT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), index=True)  # stored lower-case
    language: Mapped[str] = mapped_column(String(2), default="en")
    status: Mapped[str] = mapped_column(String(12), default="active")  # active|opted_out|bounced
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Transaction(db.Model):
    """One invoice line from the ERP. Credits are stored as negative amounts."""

    __tablename__ = "transactions"
    __table_args__ = (
        # Re-imports are idempotent: a row is identified by the ERP's transaction id when
        # the file has one, otherwise by a fingerprint of its content (see imports). One
        # index serves both identities and every per-customer look-up; fewer indexes make
        # bulk imports faster.
        Index(
            "uq_transactions_identity",
            "customer_id",
            text("coalesce(external_id, fingerprint)"),
            unique=True,
        ),
        CheckConstraint(_in("kind", TRANSACTION_KINDS), name="kind"),
        CheckConstraint("external_id IS NOT NULL OR fingerprint IS NOT NULL", name="identity"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)  # in `currency`; negative for credits
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    kind: Mapped[str] = mapped_column(String(6))  # order | credit
    external_id: Mapped[str | None] = mapped_column(String(100))
    fingerprint: Mapped[str | None] = mapped_column(String(40))


class TransactionBatch(db.Model):
    """A night's transactions sent through the API in many requests and merged into
    `transactions` at once when the client commits (feedback.customers.imports.batches).
    Only the token that opened it sees it; an open batch expires after a day."""

    __tablename__ = "transaction_batches"
    __table_args__ = (
        CheckConstraint(_in("status", BATCH_STATUSES), name="status"),
        Index("ix_transaction_batches_status", "status", "expires_at"),  # the sweep
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    rows: Mapped[int] = mapped_column(Integer, default=0)  # staged so far
    requests: Mapped[int] = mapped_column(Integer, default=0)  # requests that added rows
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the commit did (None until then)
    created: Mapped[int | None] = mapped_column(Integer)
    updated: Mapped[int | None] = mapped_column(Integer)
    unchanged: Mapped[int | None] = mapped_column(Integer)
    superseded: Mapped[int | None] = mapped_column(Integer)  # a later row had its identity


class StagedTransaction(db.Model):
    """A checked row of an open batch, as the import engine stages it. Neither column is a
    foreign key: PostgreSQL checks one row by row, which would cost every 10,000-row request
    as much again as staging it. The commit's merge checks the customers (the transactions'
    own key), and rows leave with their batch (committed, abandoned or expired). No index on
    batch_id either: the table holds only open batches' rows (usually one night's), which a
    commit reads whole anyway, and every index is paid for by every row staged."""

    __tablename__ = "transaction_batch_rows"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    batch_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(6))
    external_id: Mapped[str | None] = mapped_column(String(100))
    fingerprint: Mapped[str | None] = mapped_column(String(40))


class CurrencyRate(db.Model):
    """How many units of the base currency one unit of `currency` is worth."""

    __tablename__ = "currency_rates"
    __table_args__ = (CheckConstraint("rate > 0", name="positive"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SegmentRun(db.Model):
    """One dated computation of ABC classes and Grow/Retain programmes for all customers."""

    __tablename__ = "segment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, unique=True)  # revenue window ends on this day
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    thresholds: Mapped[str] = mapped_column(String(40))  # e.g. "50,30,15" (% of revenue A,B,C)
    base_currency: Mapped[str] = mapped_column(String(3))
    customer_count: Mapped[int] = mapped_column(Integer, default=0)
    total_revenue: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class CustomerSegment(db.Model):
    """A customer's class and programme in one segment run (the class history)."""

    __tablename__ = "customer_segments"
    __table_args__ = (
        CheckConstraint(_in("abc_class", ABC_CLASSES), name="abc_class"),
        CheckConstraint(_in("programme", PROGRAMMES), name="programme"),
        Index("ix_customer_segments_run_class", "run_id", "abc_class"),
        Index("ix_customer_segments_run_revenue", "run_id", "revenue_12m"),
        Index("ix_customer_segments_customer", "customer_id", "run_id"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("segment_runs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    revenue_12m: Mapped[Decimal] = mapped_column(Money)  # base currency, trailing 12 months
    abc_class: Mapped[str] = mapped_column(String(1))
    programme: Mapped[str] = mapped_column(String(6))  # grow | retain
    rank: Mapped[int] = mapped_column(Integer)  # 1 = largest revenue

    run: Mapped[SegmentRun] = relationship()
