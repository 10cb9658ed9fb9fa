"""/api/v1/customers, /contacts, /transactions: read, list, and bulk upsert.

A bulk upsert takes up to 10,000 rows with the CSV files' column names and runs them through
the same import engine as the files, all or nothing: any bad row and nothing is saved, with a
422 listing every problem by row and field. Classes (ABC, Grow/Retain) follow new revenue at
the nightly segment recompute, as after a file imported with --no-recompute.
"""

from __future__ import annotations

import marshmallow as ma

from feedback.api import records
from feedback.api.bodies import bulk_upsert
from feedback.api.idempotency import write
from feedback.api.pagination import decode_cursor, listed
from feedback.api.schemas import (
    BulkArgs,
    BulkResult,
    ListArgs,
    Problem,
    UpdatedSinceArgs,
    bulk_body,
    decimal_text,
    known_id,
    page_schema,
)
from feedback.problems import PROBLEM_MIMETYPE


def blueprints():
    from feedback.api import make_blueprint

    customers = make_blueprint("customers", "/customers", "The company's customers (accounts).")
    contacts = make_blueprint("contacts", "/contacts", "People at customers who get surveys.")
    transactions = make_blueprint(
        "transactions", "/transactions", "Orders and credits: the behaviour beside the scores."
    )
    _customer_routes(customers)
    _contact_routes(contacts)
    _transaction_routes(transactions)
    return customers, contacts, transactions


# --- schemas ------------------------------------------------------------------------------


class CustomerSchema(ma.Schema):
    external_id = ma.fields.String(required=True, metadata={"description": "the ERP's number"})
    name = ma.fields.String(required=True)
    owner_email = ma.fields.String(allow_none=True)
    potential = ma.fields.String(required=True, metadata={"description": "high|medium|low"})
    language = ma.fields.String(required=True, metadata={"description": "en|da|sv|nb"})
    abc_class = ma.fields.String(
        data_key="class", allow_none=True, metadata={"description": "A|B|C|D, latest run"}
    )
    programme = ma.fields.String(allow_none=True, metadata={"description": "grow|retain"})
    revenue_12m = ma.fields.Decimal(
        as_string=True, allow_none=True, metadata=decimal_text("base currency, 12 months")
    )
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class CustomerRow(ma.Schema):
    external_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    owner_email = ma.fields.String(allow_none=True, metadata={"description": "a user's e-mail"})
    potential = ma.fields.String(allow_none=True)
    language = ma.fields.String(allow_none=True)


class ContactSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    customer_external_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    language = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "active|opted_out|bounced"})
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class ContactRow(ma.Schema):
    customer_external_id = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True)
    language = ma.fields.String(allow_none=True)


class TransactionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    customer_external_id = ma.fields.String(required=True)
    date = ma.fields.Date(required=True)
    amount = ma.fields.Decimal(
        as_string=True, required=True, metadata=decimal_text("negative for credits")
    )
    currency = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "order|credit"})
    transaction_id = ma.fields.String(allow_none=True, metadata={"description": "the ERP's id"})


class TransactionRow(ma.Schema):
    customer_external_id = ma.fields.String(required=True)
    date = ma.fields.String(required=True, metadata={"description": "2026-11-30 or 30.11.2026"})
    amount = ma.fields.Raw(
        required=True,
        metadata={"type": ["number", "string"], "description": "number or text: 1234.50"},
    )
    currency = ma.fields.String(required=True)
    kind = ma.fields.String(allow_none=True)
    transaction_id = ma.fields.String(allow_none=True)


class ContactArgs(UpdatedSinceArgs):
    customer = ma.fields.String(metadata={"description": "a customer's external_id"})


class TransactionArgs(ListArgs):
    customer = ma.fields.String(metadata={"description": "a customer's external_id"})
    since = ma.fields.Date(metadata={"description": "from this date"})
    until = ma.fields.Date(metadata={"description": "to this date, inclusive"})


CustomerPage = page_schema(CustomerSchema, "CustomerPage")
ContactPage = page_schema(ContactSchema, "ContactPage")
TransactionPage = page_schema(TransactionSchema, "TransactionPage")


# --- routes -------------------------------------------------------------------------------


def _bulk_route(blueprint, kind: str, row_schema):
    @blueprint.post("")
    @write
    @blueprint.arguments(BulkArgs, location="query", as_kwargs=True)
    @blueprint.doc(requestBody=bulk_body(row_schema, f"{row_schema.__name__}Bulk"))
    @blueprint.response(200, BulkResult)
    @blueprint.alt_response(
        422,
        schema=Problem,
        content_type=PROBLEM_MIMETYPE,
        description="rows with problems; none saved",
    )
    def bulk(dry_run):
        """Upsert up to 10,000 rows, all or nothing (write scope)"""
        return bulk_upsert(kind, dry_run)

    return bulk


def _customer_routes(bp) -> None:
    @bp.get("")
    @bp.arguments(UpdatedSinceArgs, location="query")
    @bp.response(200, CustomerPage)
    def list_customers(args):
        """Customers, by last change"""
        key = decode_cursor("customers", args.get("cursor"))
        rows = records.list_customers(
            limit=args["limit"], key=key, updated_since=args.get("updated_since")
        )
        return listed(rows, args["limit"], "customers", records.customer_key, CustomerPage)

    @bp.get("/<external_id>")
    @bp.response(200, CustomerSchema)
    @bp.alt_response(404, schema=Problem, content_type=PROBLEM_MIMETYPE)
    def get_customer(external_id):
        """One customer, by the ERP's number"""
        return records.get_customer(external_id)

    _bulk_route(bp, "customers", CustomerRow)


def _contact_routes(bp) -> None:
    @bp.get("")
    @bp.arguments(ContactArgs, location="query")
    @bp.response(200, ContactPage)
    def list_contacts(args):
        """Contacts, by last change"""
        key = decode_cursor("contacts", args.get("cursor"))
        rows = records.list_contacts(
            limit=args["limit"], key=key, updated_since=args.get("updated_since"),
            customer=args.get("customer"),
        )  # fmt: skip
        return listed(rows, args["limit"], "contacts", records.customer_key, ContactPage)

    @bp.get("/<int:contact_id>")
    @bp.response(200, ContactSchema)
    @bp.alt_response(404, schema=Problem, content_type=PROBLEM_MIMETYPE)
    def get_contact(contact_id):
        """One contact"""
        return records.get_contact(known_id(contact_id, "contact"))

    _bulk_route(bp, "contacts", ContactRow)


def _transaction_routes(bp) -> None:
    @bp.get("")
    @bp.arguments(TransactionArgs, location="query")
    @bp.response(200, TransactionPage)
    def list_transactions(args):
        """Transactions, oldest first"""
        key = decode_cursor("transactions", args.get("cursor"))
        rows = records.list_transactions(
            limit=args["limit"], key=key, customer=args.get("customer"),
            since=args.get("since"), until=args.get("until"),
        )  # fmt: skip
        return listed(rows, args["limit"], "transactions", lambda row: [row["id"]], TransactionPage)

    @bp.get("/<int:transaction_id>")
    @bp.response(200, TransactionSchema)
    @bp.alt_response(404, schema=Problem, content_type=PROBLEM_MIMETYPE)
    def get_transaction(transaction_id):
        """One transaction"""
        return records.get_transaction(known_id(transaction_id, "transaction"))

    _bulk_route(bp, "transactions", TransactionRow)
