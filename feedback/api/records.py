"""Customers, contacts and transactions as the API reads them: plain queries, plain dicts.

Each list is ordered by a unique key and returns up to `limit + 1` rows (the extra one tells
pagination.page there is more). Customers and contacts go by (updated_at, id), so a client
syncing with `updated_since` never misses a row changed while it pages; transactions, which
are never edited in place, go by id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import aliased

from feedback.auth.models import User
from feedback.customers.models import Contact, Customer, CustomerSegment, Transaction
from feedback.customers.segments import latest_run_id
from feedback.errors import NotFound
from feedback.extensions import db


def after(columns: tuple, key: list | None):
    """Rows whose (columns) sort after `key` (a cursor's stored values)."""
    if key is None:
        return true()
    (first, second), (first_value, second_value) = columns, key
    return or_(first > first_value, and_(first == first_value, second > second_value))


def _customer_select():
    owner = aliased(User)
    segment = aliased(CustomerSegment)
    return (
        select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            owner.email.label("owner_email"),
            Customer.potential,
            Customer.language,
            segment.abc_class.label("abc_class"),
            segment.programme,
            segment.revenue_12m,
            Customer.created_at,
            Customer.updated_at,
        )
        .outerjoin(owner, owner.id == Customer.owner_id)
        .outerjoin(
            segment, and_(segment.customer_id == Customer.id, segment.run_id == latest_run_id())
        )
    )


def list_customers(*, limit: int, key: list | None, updated_since: datetime | None) -> list[dict]:
    if key is not None:
        key = [datetime.fromisoformat(key[0]), int(key[1])]
    query = _customer_select().where(after((Customer.updated_at, Customer.id), key))
    if updated_since is not None:
        query = query.where(Customer.updated_at >= updated_since)
    rows = db.session.execute(
        query.order_by(Customer.updated_at, Customer.id).limit(limit + 1)
    ).mappings()
    return [dict(row) for row in rows]


def customer_key(row: dict) -> list:
    return [row["updated_at"].isoformat(), row["id"]]


def get_customer(external_id: str) -> dict:
    row = (
        db.session.execute(_customer_select().where(Customer.external_id == external_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"There is no customer {external_id!r}.")
    return dict(row)


def _contact_select():
    return select(
        Contact.id,
        Customer.external_id.label("customer_external_id"),
        Contact.name,
        Contact.email,
        Contact.language,
        Contact.status,
        Contact.created_at,
        Contact.updated_at,
    ).join(Customer, Customer.id == Contact.customer_id)


def list_contacts(
    *, limit: int, key: list | None, updated_since: datetime | None, customer: str | None
) -> list[dict]:
    if key is not None:
        key = [datetime.fromisoformat(key[0]), int(key[1])]
    query = _contact_select().where(after((Contact.updated_at, Contact.id), key))
    if updated_since is not None:
        query = query.where(Contact.updated_at >= updated_since)
    if customer is not None:
        query = query.where(Customer.external_id == customer)
    rows = db.session.execute(query.order_by(Contact.updated_at, Contact.id).limit(limit + 1))
    return [dict(row) for row in rows.mappings()]


def get_contact(contact_id: int) -> dict:
    row = db.session.execute(_contact_select().where(Contact.id == contact_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no contact {contact_id}.")
    return dict(row)


def _transaction_select():
    return select(
        Transaction.id,
        Customer.external_id.label("customer_external_id"),
        Transaction.date,
        Transaction.amount,
        Transaction.currency,
        Transaction.kind,
        Transaction.external_id.label("transaction_id"),
    ).join(Customer, Customer.id == Transaction.customer_id)


def list_transactions(
    *, limit: int, key: list | None, customer: str | None, since, until
) -> list[dict]:
    query = _transaction_select()
    if key is not None:
        query = query.where(Transaction.id > int(key[0]))
    if customer is not None:
        query = query.where(Customer.external_id == customer)
    if since is not None:
        query = query.where(Transaction.date >= since)
    if until is not None:
        query = query.where(Transaction.date <= until)
    rows = db.session.execute(query.order_by(Transaction.id).limit(limit + 1))
    return [dict(row) for row in rows.mappings()]


def get_transaction(transaction_id: int) -> dict:
    row = (
        db.session.execute(_transaction_select().where(Transaction.id == transaction_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"There is no transaction {transaction_id}.")
    return dict(row)
