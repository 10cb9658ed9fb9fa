"""Reading a bulk request's body and answering with the import engine's report."""

from __future__ import annotations

import json

from flask import current_app, request

from feedback.customers.imports import run_records
from feedback.extensions import db
from feedback.problems import problem

MAX_ROWS = 10_000
# Every problem of a rejected request is listed (up to a few per row), so a client can fix
# them all in one go instead of one hundred at a time as a file's report does.
MAX_LISTED = MAX_ROWS * 5


class BadBody(Exception):
    def __init__(self, response) -> None:
        self.response = response


def bulk_rows() -> list:
    """The `rows` of a JSON body, numbers kept as the text they were sent as."""
    if not request.is_json:
        raise BadBody(problem(415, "Send the rows as JSON: 'Content-Type: application/json'."))
    try:
        body = json.loads(request.get_data(), parse_float=str, parse_int=str)
    except (ValueError, RecursionError) as exc:
        raise BadBody(problem(400, f"The body is not valid JSON: {exc}.")) from None
    if not isinstance(body, dict) or "rows" not in body:
        raise BadBody(problem(422, 'The body must be an object: {"rows": [...]}.',
                              errors=[{"field": "rows", "message": "required"}]))  # fmt: skip
    extra = sorted(body.keys() - {"rows"})
    if extra:
        raise BadBody(problem(422, "The body holds only rows.", errors=[
            {"field": name, "message": "unknown field"} for name in extra
        ]))  # fmt: skip
    rows = body["rows"]
    if isinstance(rows, list) and len(rows) > MAX_ROWS:
        raise BadBody(problem(
            413, f"At most {MAX_ROWS:,} rows per request; this one has {len(rows):,}. "
            "Send them in several requests.",
        ))  # fmt: skip
    return rows


def bulk_upsert(kind: str, dry_run: bool):
    """The import report as the response: 200 with counts, or 422 listing every problem."""
    try:
        rows = bulk_rows()
    except BadBody as bad:
        return bad.response
    report = run_records(
        kind, rows, base_currency=current_app.config["FEEDBACK_BASE_CURRENCY"],
        dry_run=dry_run, max_listed=MAX_LISTED,
    )  # fmt: skip
    if not report.ok:
        return rows_problem(report)
    if dry_run:
        db.session.rollback()  # the check staged rows in a temporary table: drop them
    return {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "dry_run": dry_run,
    }


def rows_problem(report, saved: str = "nothing was saved"):
    """422 listing every problem of a refused request by row and field."""
    errors = [
        {**({"row": p.line} if p.line is not None else {}), "field": p.column,
         "message": p.message}
        for p in report.problems
    ]  # fmt: skip
    return problem(
        422,
        f"{report.problem_count} problem{'s' if report.problem_count != 1 else ''} in "
        f"{report.rows} rows; {saved}.",
        kind="invalid-rows",
        errors=errors,
    )
