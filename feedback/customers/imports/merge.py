"""Checked transaction rows into the table, in chunks, while the next chunk is being checked.

Each chunk goes into a temporary staging table (COPY on PostgreSQL, executemany on SQLite)
and is merged with two set-based statements: UPDATE rows whose transaction_id is known,
INSERT the rest unless their identity is already stored. On PostgreSQL a worker thread does
this on the import's own connection while the main thread parses on (the database works on
its own core meanwhile); everything stays in one transaction, so a bad row found late still
means nothing is saved. SQLite connections stay in their thread, so there it runs inline.
"""

from __future__ import annotations

import queue
import threading
from contextlib import suppress

from sqlalchemy import ForeignKeyConstraint, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from feedback.customers.imports.report import ImportReport
from feedback.customers.models import Transaction

STAGING = "import_transactions"
CHUNK_ROWS = 250_000
LARGE_IMPORT_ROWS = 50_000  # from here the foreign key is checked once, not row by row
IMPORT_LOCK = 7_261_001  # pg_advisory_xact_lock key: one transactions import at a time
COLUMNS = ("customer_id", "date", "amount", "currency", "kind", "external_id", "fingerprint")
_COLUMNS = ", ".join(COLUMNS)

_SAME = "t.date = s.date AND t.amount = s.amount AND t.currency = s.currency AND t.kind = s.kind"
_UPDATE = text(
    f"""
    UPDATE transactions SET date = s.date, amount = s.amount, currency = s.currency, kind = s.kind
    FROM {STAGING} s
    WHERE transactions.customer_id = s.customer_id AND transactions.external_id = s.external_id
      AND NOT ({_SAME.replace("t.", "transactions.")})
    """
)
# Rows go in in (customer, date) order, the order of the table's indexes: far fewer pages
# touched than file order. WHERE true: SQLite needs it to parse ON CONFLICT after a SELECT.
_INSERT = text(
    f"""
    INSERT INTO transactions ({_COLUMNS})
    SELECT {_COLUMNS} FROM {STAGING} WHERE true ORDER BY customer_id, date
    ON CONFLICT DO NOTHING
    """
)
# PostgreSQL: an anti-join instead of ON CONFLICT, whose speculative insertion costs half
# again on a large load; safe because imports hold IMPORT_LOCK, and the unique constraints
# still stand behind it.
_INSERT_NEW = text(
    f"""
    INSERT INTO transactions ({_COLUMNS})
    SELECT {", ".join("s." + c for c in COLUMNS)} FROM {STAGING} s
    WHERE NOT EXISTS (SELECT 1 FROM transactions t
                      WHERE t.customer_id = s.customer_id AND t.external_id = s.external_id)
      AND NOT EXISTS (SELECT 1 FROM transactions t
                      WHERE t.customer_id = s.customer_id AND t.fingerprint = s.fingerprint)
    ORDER BY s.customer_id, s.date
    """
)
_COUNT = text(
    f"""
    SELECT
      COALESCE(SUM(CASE WHEN t.id IS NULL AND f.id IS NULL THEN 1 ELSE 0 END), 0),
      COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND NOT ({_SAME}) THEN 1 ELSE 0 END), 0)
    FROM {STAGING} s
    LEFT JOIN transactions t ON t.customer_id = s.customer_id AND t.external_id = s.external_id
    LEFT JOIN transactions f ON f.customer_id = s.customer_id AND f.fingerprint = s.fingerprint
    """
)


class Merger:
    """Feed rows with `add`; `finish(keep=...)` merges the rest (or drops it) and waits."""

    def __init__(self, connection, report: ImportReport, *, dry_run: bool) -> None:
        self.connection, self.report, self.dry_run = connection, report, dry_run
        self.postgres = connection.dialect.name == "postgresql"
        self.count = 0
        self._chunk: list[tuple] = []
        self._dropped_foreign_key = None
        self._error: BaseException | None = None
        if self.postgres:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
        connection.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
        connection.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGING} (customer_id INTEGER NOT NULL, "
                "date DATE NOT NULL, amount NUMERIC(18, 2) NOT NULL, currency VARCHAR(3) NOT NULL,"
                " kind VARCHAR(6) NOT NULL, external_id VARCHAR(100), fingerprint VARCHAR(40))"
            )
        )
        self._queue: queue.Queue | None = None
        if self.postgres:
            self._queue = queue.Queue(maxsize=1)
            self._worker = threading.Thread(target=self._work, name="import-merge", daemon=True)
            self._worker.start()

    def add(self, row: tuple) -> None:
        self._chunk.append(row)
        if len(self._chunk) >= CHUNK_ROWS:
            self._submit()

    def _submit(self) -> None:
        chunk, self._chunk = self._chunk, []
        self.count += len(chunk)
        if self._queue is None:
            self._merge(chunk)
            return
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def finish(self, *, keep: bool) -> None:
        """Merge what is left (keep=True) or abandon it; the caller commits or rolls back."""
        try:
            if keep and self._chunk:
                self._submit()
            if self._queue is not None:
                self._queue.put(None)
                self._worker.join()
                self._queue = None
            if self._error is not None:
                raise self._error
            if keep and self._dropped_foreign_key is not None:
                self.connection.execute(AddConstraint(self._dropped_foreign_key))
        finally:
            with suppress(Exception):  # a failed transaction is rolled back by the caller
                self.connection.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
        if keep:
            self.report.unchanged = self.count - self.report.created - self.report.updated

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._merge(chunk)
                except BaseException as exc:  # handed to the main thread by finish/_submit
                    self._error = exc

    def _merge(self, chunk: list[tuple]) -> None:
        connection = self.connection
        connection.execute(text(f"DELETE FROM {STAGING}"))
        self._stage(chunk)
        if self.dry_run:
            created, updated = connection.execute(_COUNT).one()
            self.report.created += int(created)
            self.report.updated += int(updated)
            return
        if (
            self.postgres
            and self._dropped_foreign_key is None
            and (len(chunk) >= LARGE_IMPORT_ROWS)
        ):
            self._drop_foreign_key()
        self.report.updated += connection.execute(_UPDATE).rowcount
        self.report.created += connection.execute(
            _INSERT_NEW if self.postgres else _INSERT
        ).rowcount

    def _stage(self, chunk: list[tuple]) -> None:
        raw = self.connection.connection.driver_connection
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {STAGING} ({_COLUMNS}) FROM STDIN") as copy,
            ):
                for row in chunk:
                    copy.write_row(row)
            return
        raw.executemany(
            f"INSERT INTO {STAGING} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(c, d.isoformat(), str(a), cur, k, e, f) for c, d, a, cur, k, e, f in chunk],
        )

    def _drop_foreign_key(self) -> None:
        """PostgreSQL checks a foreign key row by row, locking the customer row each time:
        over half the cost of a large load. So a large import drops it inside its transaction
        and adds it back before commit, which checks every row in one join. The rows were
        checked against the customers already; DDL is transactional, so a failure leaves the
        constraint as it was. Other sessions wait for the transactions table meanwhile."""
        (foreign_key,) = [
            c for c in Transaction.__table__.constraints if isinstance(c, ForeignKeyConstraint)
        ]
        self.connection.execute(text("SET LOCAL lock_timeout = '30s'"))
        self.connection.execute(DropConstraint(foreign_key))
        self._dropped_foreign_key = foreign_key
