"""Transactions file: re-importing the same file, or the same transaction_id, adds nothing.

How duplicates are ruled out (both are unique constraints on `transactions`, so two imports
running at once cannot double a row either):
- a row with a `transaction_id` is identified by (customer, transaction_id); a re-import
  updates its date, amount, currency or kind if the ERP corrected them;
- a row without one is identified by a fingerprint: a hash of customer, date, amount,
  currency, kind and its occurrence number among identical rows in the file. Two identical
  orders on one day in one file are two rows (occurrences 1 and 2); importing that file again,
  or an export that overlaps it, matches both and adds neither.

Rows are checked in Python, bulk-loaded into a temporary staging table (COPY on PostgreSQL,
executemany on SQLite), then merged with two set-based statements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import text

from feedback.customers.imports.common import customer_ids, known_currencies, well_formed
from feedback.customers.imports.report import ImportReport
from feedback.customers.imports.values import (
    BadValue,
    parse_amount,
    parse_currency,
    parse_date,
    parse_kind,
)
from feedback.extensions import db

REQUIRED = ("customer_external_id", "date", "amount", "currency")
OPTIONAL = ("kind", "transaction_id")
STAGING = "import_transactions"
_COLUMNS = "customer_id, date, amount, currency, kind, external_id, fingerprint"

# Dates and currencies repeat across a million rows; parse each spelling once.
_date = lru_cache(maxsize=8192)(parse_date)
_kind = lru_cache(maxsize=64)(parse_kind)


def import_rows(rows: Iterable, index: dict, report: ImportReport, *, base_currency, dry_run):
    connection = db.session.connection()
    lookups = customer_ids(), known_currencies(base_currency)
    stager = _Stager(connection)
    try:
        # Rows stream into the staging table while later ones are still being checked, so
        # PostgreSQL ingests on its own core meanwhile; a bad row anywhere stops the merge.
        _check(rows, index, report, *lookups, stage=stager.add)
        stager.finish()
        if report.ok:
            _merge(connection, report, stager.count, dry_run=dry_run)
    finally:
        stager.finish()
        connection.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))


def _check(rows, index, report, customers, currencies, *, stage) -> None:
    i_customer, i_date, i_amount = index["customer_external_id"], index["date"], index["amount"]
    i_currency, i_kind, i_id = index["currency"], index.get("kind"), index.get("transaction_id")
    currency_of = lru_cache(maxsize=256)(lambda raw: parse_currency(raw, currencies))
    occurrences: dict[tuple, int] = {}
    first_line: dict[tuple[int, str], int] = {}
    problem = report.add_problem
    for line, row in well_formed(rows, index, report):
        bad = False
        external_customer = row[i_customer].strip()
        customer_id = customers.get(external_customer)
        if customer_id is None:
            bad = True
            problem(
                line,
                "customer_external_id",
                f"unknown customer {external_customer!r}"
                if external_customer
                else "customer is empty",
            )
        try:
            day = _date(row[i_date])
        except BadValue as exc:
            bad = True
            problem(line, "date", str(exc))
        try:
            amount = parse_amount(row[i_amount])
        except BadValue as exc:
            bad = True
            problem(line, "amount", str(exc))
        try:
            currency = currency_of(row[i_currency])
        except BadValue as exc:
            bad = True
            problem(line, "currency", str(exc))
        kind = None
        if i_kind is not None and row[i_kind].strip():
            try:
                kind = _kind(row[i_kind])
            except BadValue as exc:
                bad = True
                problem(line, "kind", str(exc))
        external_id = row[i_id].strip() if i_id is not None else ""
        if len(external_id) > 100:
            bad = True
            problem(line, "transaction_id", "transaction_id is longer than 100 characters")
        if bad or report.problem_count:
            continue  # once the file is known bad, only look for more problems
        # Credits are stored negative whichever way the ERP signs them; an order can't be.
        if kind is None:
            kind = "credit" if amount < 0 else "order"
        if kind == "credit":
            amount = -abs(amount)
        elif amount < 0:
            problem(line, "amount", f"an order cannot be negative ({amount}); use kind credit")
            continue
        if external_id:
            key = (customer_id, external_id)
            if key in first_line:
                problem(
                    line,
                    "transaction_id",
                    f"{external_id} for {external_customer} is already on line {first_line[key]}",
                )
                continue
            first_line[key] = line
            stage((customer_id, day, amount, currency, kind, external_id, None))
            continue
        identity = (customer_id, day, amount, currency, kind)
        occurrence = occurrences[identity] = occurrences.get(identity, 0) + 1
        stage((customer_id, day, amount, currency, kind, None, _fingerprint(
            external_customer, day.isoformat(), amount, currency, kind, occurrence
        )))  # fmt: skip


def _fingerprint(customer: str, day: str, amount: Decimal, currency, kind, occurrence) -> str:
    content = f"{customer}\x1f{day}\x1f{amount}\x1f{currency}\x1f{kind}\x1f{occurrence}"
    return hashlib.sha1(content.encode()).hexdigest()


class _Stager:
    """A temporary table fed row by row: COPY on PostgreSQL, batched executemany on SQLite."""

    BATCH = 20_000

    def __init__(self, connection) -> None:
        connection.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
        connection.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGING} (customer_id INTEGER NOT NULL, "
                "date DATE NOT NULL, amount NUMERIC(18, 2) NOT NULL, currency VARCHAR(3) NOT NULL,"
                " kind VARCHAR(6) NOT NULL, external_id VARCHAR(100), fingerprint VARCHAR(40))"
            )
        )
        self.count = 0
        self._raw = connection.connection.driver_connection
        self._postgres = connection.dialect.name == "postgresql"
        self._batch: list[tuple] = []
        self._copy_context = self._copy = None
        if self._postgres:
            self._cursor = self._raw.cursor()
            self._copy_context = self._cursor.copy(f"COPY {STAGING} ({_COLUMNS}) FROM STDIN")
            self._copy = self._copy_context.__enter__()

    def add(self, row: tuple) -> None:
        self.count += 1
        if self._copy is not None:
            self._copy.write_row(row)
            return
        self._batch.append(row)
        if len(self._batch) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._raw.executemany(
                f"INSERT INTO {STAGING} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(c, d.isoformat(), str(a), cur, k, e, f) for c, d, a, cur, k, e, f in self._batch],
            )
            self._batch = []

    def finish(self) -> None:
        """Complete the load (idempotent)."""
        if self._copy_context is not None:
            context, self._copy_context, self._copy = self._copy_context, None, None
            context.__exit__(None, None, None)
            self._cursor.close()
        elif not self._postgres:
            self._flush()


def _merge(connection, report: ImportReport, staged: int, *, dry_run: bool) -> None:
    if dry_run:
        _count_changes(connection, report, staged)
        return
    report.updated = connection.execute(_UPDATE).rowcount
    report.created = connection.execute(_INSERT).rowcount
    report.unchanged = staged - report.created - report.updated


_SAME = "t.date = s.date AND t.amount = s.amount AND t.currency = s.currency AND t.kind = s.kind"
_UPDATE = text(
    f"""
    UPDATE transactions SET date = s.date, amount = s.amount, currency = s.currency, kind = s.kind
    FROM {STAGING} s
    WHERE transactions.customer_id = s.customer_id AND transactions.external_id = s.external_id
      AND NOT ({_SAME.replace("t.", "transactions.")})
    """
)
# WHERE true: SQLite needs it to parse ON CONFLICT after INSERT ... SELECT.
_INSERT = text(
    f"""
    INSERT INTO transactions ({_COLUMNS})
    SELECT {_COLUMNS} FROM {STAGING} WHERE true
    ON CONFLICT DO NOTHING
    """
)


def _count_changes(connection, report: ImportReport, total: int) -> None:
    row = connection.execute(
        text(
            f"""
            SELECT
              COALESCE(SUM(CASE WHEN t.id IS NULL AND f.id IS NULL THEN 1 ELSE 0 END), 0),
              COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND NOT ({_SAME}) THEN 1 ELSE 0 END), 0)
            FROM {STAGING} s
            LEFT JOIN transactions t
              ON t.customer_id = s.customer_id AND t.external_id = s.external_id
            LEFT JOIN transactions f
              ON f.customer_id = s.customer_id AND f.fingerprint = s.fingerprint
            """
        )
    ).one()
    report.created, report.updated = int(row[0]), int(row[1])
    report.unchanged = total - report.created - report.updated
