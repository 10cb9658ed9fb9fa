"""Schemas every resource shares: list arguments, pages, bulk upserts, problems."""

from __future__ import annotations

import marshmallow as ma

from feedback.api.pagination import DEFAULT_LIMIT, MAX_LIMIT


class ListArgs(ma.Schema):
    cursor = ma.fields.String(
        metadata={"description": "next_cursor of the previous page; omit for the first page"}
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(1, MAX_LIMIT),
        metadata={"description": f"rows per page, 1-{MAX_LIMIT}"},
    )


class UpdatedSinceArgs(ListArgs):
    updated_since = ma.fields.AwareDateTime(
        default_timezone=None,
        metadata={"description": "only rows changed at or after this time (ISO 8601, with zone)"},
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """{"data": [item, ...], "next_cursor": str | null} for one kind of item."""
    return ma.Schema.from_dict(
        {
            "data": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "pass as ?cursor= for the next page; null at the end"},
            ),
        },
        name=name,
    )


class BulkArgs(ma.Schema):
    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "check and count, save nothing"}
    )


class BulkResult(ma.Schema):
    rows = ma.fields.Integer(required=True)
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    dry_run = ma.fields.Boolean(required=True)


class ProblemError(ma.Schema):
    row = ma.fields.Integer(metadata={"description": "0-based index into the request's rows"})
    field = ma.fields.String(allow_none=True)
    message = ma.fields.String(required=True)
    location = ma.fields.String(data_key="in", metadata={"description": "query, json, ..."})


class Problem(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.List(ma.fields.Nested(ProblemError))


def bulk_body(row_schema: type[ma.Schema], name: str) -> dict:
    """The documented request body of a bulk upsert. The rows are checked by the import
    engine (the CSV files' checks, 10,000 rows at a time), not by marshmallow."""
    body = ma.Schema.from_dict(
        {"rows": ma.fields.List(ma.fields.Nested(row_schema), required=True)}, name=name
    )
    return {
        "required": True,
        "content": {"application/json": {"schema": body}},
    }
