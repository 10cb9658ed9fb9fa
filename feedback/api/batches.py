"""/api/v1/transactions/batches: a night's transactions in many requests, merged at once.

    POST   /transactions/batches               open a batch (201, Location)
    POST   /transactions/batches/{id}/rows     add up to 10,000 rows, checked like a bulk upsert
    POST   /transactions/batches/{id}/commit   merge every row into the transactions at once
    GET    /transactions/batches/{id}          its state, and what the commit did
    DELETE /transactions/batches/{id}          drop it unsaved

Only the token that opened a batch sees it. See feedback.customers.imports.batches for what
the rows mean and why a batch is faster than as many bulk upserts.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, g, url_for

from feedback.api.bodies import MAX_LISTED, BadBody, bulk_rows, rows_problem
from feedback.api.customers import TransactionRow
from feedback.api.idempotency import write
from feedback.api.schemas import Problem, bulk_body, known_id, problem_responses
from feedback.customers.imports import batches
from feedback.customers.models import TransactionBatch
from feedback.problems import PROBLEM_MIMETYPE, problem


def blueprints():
    from feedback.api import make_blueprint

    bp = make_blueprint(
        "transaction_batches", "/transactions/batches",
        "A night's transactions sent in many requests and saved together at the commit.",
    )  # fmt: skip
    _routes(bp)
    return (bp,)


class BatchSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"description": "open|committed|abandoned"})
    rows = ma.fields.Integer(required=True, metadata={"description": "rows added so far"})
    requests = ma.fields.Integer(
        required=True, metadata={"description": "requests that added rows"}
    )
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "an open batch not committed by then is dropped"}
    )
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    created = ma.fields.Integer(allow_none=True, metadata={"description": "after the commit"})
    updated = ma.fields.Integer(allow_none=True)
    unchanged = ma.fields.Integer(allow_none=True)
    superseded = ma.fields.Integer(
        allow_none=True, metadata={"description": "rows replaced by a later row of the batch"}
    )


class AddedRows(ma.Schema):
    added = ma.fields.Integer(required=True, metadata={"description": "rows in this request"})
    batch = ma.fields.Nested(BatchSchema, required=True)


def _batch(batch_id: int, *, lock: str | None = None) -> TransactionBatch:
    return batches.find_batch(known_id(batch_id, "batch"), g.api_token.id, lock=lock)


def _routes(bp) -> None:
    @bp.post("")
    @write
    @bp.response(201, BatchSchema)
    def open_batch():
        """Open a batch (write scope); add rows to it, then commit it within 24 hours"""
        batch = batches.open_batch(g.api_token.id)
        location = url_for("api_transaction_batches.get_batch", batch_id=batch.id,
                           _external=True)  # fmt: skip
        return batch, 201, {"Location": location}

    @bp.get("/<int:batch_id>")
    @bp.response(200, BatchSchema)
    @problem_responses(bp, 404)
    def get_batch(batch_id):
        """A batch: how many rows it holds, and what its commit did"""
        return _batch(batch_id)

    @bp.post("/<int:batch_id>/rows")
    @write
    @bp.doc(requestBody=bulk_body(TransactionRow, "TransactionBatchRows"))
    @bp.response(200, AddedRows)
    @bp.alt_response(422, schema=Problem, content_type=PROBLEM_MIMETYPE,
                     description="rows with problems; none added")  # fmt: skip
    @problem_responses(bp, 404, 409, 413)
    def add_rows(batch_id):
        """Add up to 10,000 rows, checked like a bulk upsert: all or none (write scope)"""
        batch = _batch(batch_id, lock="share")  # adds may run side by side
        try:
            rows = bulk_rows()
        except BadBody as bad:
            return bad.response
        try:
            report = batches.add_rows(
                batch, rows, base_currency=current_app.config["FEEDBACK_BASE_CURRENCY"],
                max_rows=current_app.config["FEEDBACK_API_BATCH_MAX_ROWS"], max_listed=MAX_LISTED,
            )  # fmt: skip
        except batches.BatchFull as full:
            return problem(413, str(full))
        if not report.ok:
            return rows_problem(report, "none were added to the batch")
        return {"added": report.rows, "batch": batch}

    @bp.post("/<int:batch_id>/commit")
    @write
    @bp.response(200, BatchSchema)
    @problem_responses(bp, 404, 409)
    def commit_batch(batch_id):
        """Save every row of the batch into the transactions, all or nothing (write scope)"""
        batch = _batch(batch_id, lock="update")
        batches.commit_batch(batch)
        return batch

    @bp.delete("/<int:batch_id>")
    @write
    @bp.response(204)
    @problem_responses(bp, 404, 409)
    def abandon_batch(batch_id):
        """Drop an open batch and its rows (write scope)"""
        batches.abandon_batch(_batch(batch_id, lock="update"))
        return "", 204
