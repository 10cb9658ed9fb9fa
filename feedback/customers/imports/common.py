"""Pieces the three importers share: row shape checks and one-query look-up tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from sqlalchemy import bindparam, func, insert, select, update

from feedback.auth.models import User
from feedback.customers.imports.report import ImportReport
from feedback.customers.models import CurrencyRate
from feedback.extensions import db


def well_formed(
    rows: Iterable[tuple[int, list[str]]], index: dict[str, int], report: ImportReport
) -> Iterator[tuple[int, list[str]]]:
    """Rows whose field count matches the header; others become problems."""
    width = index["__width__"]
    count = 0
    for line, row in rows:
        count += 1
        if len(row) == width:
            yield line, row
            continue
        if len(row) < width:
            # Excel drops trailing empty cells; missing required values are caught per column.
            row = row + [""] * (width - len(row))
        elif len(row) > width:
            if any(field.strip() for field in row[width:]):
                report.add_problem(
                    line,
                    None,
                    f"the row has {len(row)} fields but the header has {width}; "
                    "is a value holding the delimiter missing its quotes?",
                )
                continue
            row = row[:width]
        yield line, row
    report.rows += count


def cell(row: list[str], index: dict[str, int], name: str) -> str:
    position = index.get(name)
    return row[position] if position is not None else ""


def customer_ids(only: set[str] | None = None) -> dict[str, int]:
    """external_id -> customer id, for every customer, or only for the external ids in
    `only` (an API request names a few thousand of perhaps 100,000 customers).

    One statement on the driver's cursor: with 100,000 customers the ORM's rows cost 300 ms
    and the cursor's tuples 55-85 ms; the ids of one request, passed as a single array
    (PostgreSQL) or JSON (SQLite) parameter, 10-25 ms."""
    connection = db.session.connection()
    cursor = connection.connection.driver_connection.cursor()
    try:
        if only is None:
            cursor.execute("SELECT external_id, id FROM customers")
        elif connection.dialect.name == "postgresql" and "\x1f" in "".join(only):
            cursor.execute(
                "SELECT external_id, id FROM customers WHERE external_id = ANY(%s)", (list(only),)
            )
        elif connection.dialect.name == "postgresql":
            # One text parameter split by the server: psycopg dumps a list of 7,000 names
            # into an array in Python, which cost more than the look-up (15 of 25 ms).
            cursor.execute(
                "SELECT external_id, id FROM customers"
                " WHERE external_id = ANY(string_to_array(%s, E'\\x1f'))",
                ("\x1f".join(only),),
            )
        else:
            cursor.execute(
                "SELECT external_id, id FROM customers"
                " WHERE external_id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(only)),),
            )
        return dict(cursor.fetchall())
    finally:
        cursor.close()


def user_ids_by_email() -> dict[str, int]:
    return dict(db.session.execute(select(func.lower(User.email), User.id)).all())


def known_currencies(base_currency: str) -> set[str]:
    return {base_currency, *db.session.scalars(select(CurrencyRate.currency))}


def write_changes(
    table, key_column, new: list[dict], changed: list[dict], fields: tuple[str, ...], *,
    total: int, report: ImportReport, dry_run: bool,
) -> None:  # fmt: skip
    """Count, then (unless a dry run) bulk-insert `new` and bulk-update `changed`.

    `changed` rows carry the key as `b_key` and each field (and updated_at) as `b_<field>`."""
    report.created, report.updated = len(new), len(changed)
    report.unchanged = total - len(new) - len(changed)
    if dry_run:
        return
    if new:
        db.session.execute(insert(table), new)
    if changed:
        db.session.execute(
            update(table)
            .where(key_column == bindparam("b_key"))
            .values({f: bindparam(f"b_{f}") for f in (*fields, "updated_at")}),
            changed,
        )
