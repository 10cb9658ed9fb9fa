"""Schemas every resource shares: list arguments, pages, bulk upserts, problems."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma

from feedback.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from feedback.errors import NotFound
from feedback.problems import PROBLEM_MIMETYPE


class ListArgs(ma.Schema):
    cursor = ma.fields.String(
        metadata={"description": "next_cursor of the previous page; omit for the first page"}
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(1, MAX_LIMIT),
        metadata={"description": f"rows per page, 1-{MAX_LIMIT}"},
    )


# A moment outside these years cannot be meant, and one near year 1 or 9999 overflows when
# turned into UTC for the database (a 500): refused as a 422 instead.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)


def moment(description: str, **kwargs) -> ma.fields.AwareDateTime:
    """An ISO 8601 time with its zone (a time without one is refused)."""
    return ma.fields.AwareDateTime(
        default_timezone=None,
        validate=ma.validate.Range(EARLIEST_MOMENT, LATEST_MOMENT),
        metadata={"description": description},
        **kwargs,
    )


class UpdatedSinceArgs(ListArgs):
    updated_since = moment("only rows changed at or after this time (ISO 8601, with zone)")


def decimal_text(description: str) -> dict:
    """Field metadata of an amount sent as text ("1234.50"), so no float rounds it."""
    return {"type": "string", "format": "decimal", "description": description}


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


class CustomerRef(ma.Schema):
    """The customer a response, case or score belongs to."""

    external_id = ma.fields.String(required=True, metadata={"description": "the ERP's number"})
    name = ma.fields.String(required=True)


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


# Ids are 32-bit in the database: a larger one names nothing (and PostgreSQL would refuse
# to compare with it), so filters refuse it and lookups answer 404.
MAX_ID = 2**31 - 1


def id_field(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        validate=ma.validate.Range(1, MAX_ID), metadata={"description": description}
    )


def known_id(value: int, what: str) -> int:
    """`value` if it can name a row; NotFound (404) for one no row can have."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"There is no {what} {value}.")
    return value


def problem_responses(blueprint, *statuses: int):
    """Document the problems (404, 409…) a view answers with besides the shared ones."""

    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, schema=Problem, content_type=PROBLEM_MIMETYPE)(
                view
            )
        return view

    return decorate


def _printable(value: str) -> None:
    if "\x00" in value:  # PostgreSQL cannot store or compare a NUL character
        raise ma.ValidationError("must not contain NUL characters")


class Text(ma.fields.String):
    """A string the database can take: no NUL characters (a 422 naming the field, not a 500
    from PostgreSQL)."""

    def __init__(self, **kwargs) -> None:
        validate = kwargs.pop("validate", None)
        extra = [validate] if callable(validate) else list(validate or [])
        super().__init__(validate=[_printable, *extra], **kwargs)
