"""Checked transaction rows into the table: staged while later rows are checked, then
merged in two set-based statements.

Chunks of rows (`add`, row by row, or `add_columns`, a block of a plain file column by
column) go into a temporary staging table (COPY on PostgreSQL; on SQLite executemany of
INSERTs of 100 rows each). On PostgreSQL a worker thread loads them on the import's own
connection while the main thread parses on, so the database ingests on its own core
meanwhile; SQLite connections stay in their thread, so there it runs inline. Once every row
is checked and staged: UPDATE the rows whose transaction_id is known, INSERT the rest unless
their identity is already stored. All of it is one transaction: a bad row found late still
saves nothing.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterable, Sequence
from contextlib import suppress
from itertools import chain, repeat

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
# SQLite stages this many rows per INSERT statement (700 parameters, under every SQLite's
# limit of 999): a third less time than one statement execution per row.
ROWS_PER_INSERT = 100
_ROW = f"({', '.join('?' * len(COLUMNS))})"

_SAME = "t.date = s.date AND t.amount = s.amount AND t.currency = s.currency AND t.kind = s.kind"
# Identities are matched through the table's one unique index, on
# (customer_id, coalesce(external_id, fingerprint)); a row has one or the other.
_IDENTITY = "coalesce(t.external_id, t.fingerprint)"
# Both sides of the identity match are coalesce(): compared with a plain column, SQLite
# applies the column's text affinity to the expression and cannot use the identity index,
# and read every transaction of each staged customer instead (each 10,000-row API request
# got slower as the table grew).
_UPDATE = text(
    f"""
    UPDATE transactions SET date = s.date, amount = s.amount, currency = s.currency, kind = s.kind
    FROM {STAGING} s
    WHERE s.external_id IS NOT NULL AND transactions.customer_id = s.customer_id
      AND {_IDENTITY.replace("t.", "transactions.")} = coalesce(s.external_id, s.fingerprint)
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
    WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = s.customer_id
                      AND {_IDENTITY} = coalesce(s.external_id, s.fingerprint))
    ORDER BY s.customer_id, s.date
    """
)
_COUNT = text(
    f"""
    SELECT
      COALESCE(SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END), 0),
      COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND NOT ({_SAME}) THEN 1 ELSE 0 END), 0)
    FROM {STAGING} s
    LEFT JOIN transactions t
      ON t.customer_id = s.customer_id AND {_IDENTITY} = coalesce(s.external_id, s.fingerprint)
    """
)

_NULL = "\\N"  # NULL in COPY's text format
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab and line breaks escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


class Merger:
    """Feed rows with `add` or `add_columns`; `finish(keep=...)` merges everything (or
    nothing) once staged. A row is (customer_id, ISO date, canonical amount text, currency,
    kind, external_id or None, fingerprint or None)."""

    locks = True  # one merge into transactions at a time (IMPORT_LOCK)

    def __init__(self, connection, report: ImportReport, *, dry_run: bool) -> None:
        self.connection, self.report, self.dry_run = connection, report, dry_run
        self.postgres = connection.dialect.name == "postgresql"
        self.count = 0
        self._staged_as = "TABLE"  # or VIEW (stage_view)
        self._chunk: list = []
        self._error: BaseException | None = None
        if self.postgres and self.locks:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
        self._drop_leftover()
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

    def _drop_leftover(self) -> None:
        """Drop the staging table, or view, an earlier import on this connection left: SQLite
        runs DDL outside the transaction when no row was written yet, so a rollback does not
        take back its CREATE."""
        if self.postgres:
            kind = self.connection.scalar(text(
                "SELECT relkind FROM pg_class WHERE relname = :name AND relpersistence = 't' "
                "AND pg_table_is_visible(oid)"), {"name": STAGING})  # fmt: skip
        else:
            kind = self.connection.scalar(
                text("SELECT type FROM sqlite_temp_master WHERE name = :name"), {"name": STAGING}
            )
        if kind is not None:
            what = "VIEW" if kind in ("v", "view") else "TABLE"
            self.connection.execute(text(f"DROP {what} {STAGING}"))

    def add(self, row: tuple) -> None:
        # PostgreSQL gets COPY's text format, built here in one f-string: several times
        # cheaper than handing tuples to the driver, and the worker sends whole chunks.
        if self.postgres:
            customer_id, day, amount, currency, kind, external_id, fingerprint = row
            external = _copy_text(external_id) if external_id is not None else _NULL
            self._chunk.append(
                f"{customer_id}\t{day}\t{amount}\t{currency}\t{kind}\t{external}\t"
                f"{fingerprint or _NULL}\n"
            )
        else:
            self._chunk.append(row)
        if len(self._chunk) >= CHUNK_ROWS:
            self._submit()

    def add_columns(self, columns: Sequence[Iterable | None], count: int) -> None:
        """`count` rows given as the seven columns of a row, staged as one chunk. A column is
        an iterable of at least `count` values, or None when it is NULL in every row; the
        external_id and fingerprint columns hold no Nones otherwise."""
        if self._chunk:
            self._submit()
        if self.postgres:
            *values, external_id, fingerprint = columns
            if external_id is not None:
                external_id = list(external_id)
                if _COPY_SPECIAL.search("".join(external_id)):
                    external_id = map(_copy_text, external_id)
            lines = map(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\n".format,
                *values,
                repeat(_NULL) if external_id is None else external_id,
                repeat(_NULL) if fingerprint is None else fingerprint,
            )
            self._send("".join(lines), count)
        else:
            rows = zip(*(repeat(None) if c is None else c for c in columns), strict=False)
            self._send(rows, count)

    def stage_query(self, select_sql: str, params: dict) -> int:
        """Stage the rows a SELECT of the seven columns gives (a batch's, at its commit);
        their number."""
        staged = self.connection.execute(
            text(f"INSERT INTO {STAGING} ({_COLUMNS}) {select_sql}"), params
        ).rowcount
        self.count += staged
        return staged

    def stage_view(self, select_sql: str, count: int) -> None:
        """Merge the `count` rows a SELECT of the seven columns gives (no parameters) without
        copying them: the staging table becomes a view of them."""
        self.connection.execute(text(f"DROP TABLE {STAGING}"))
        self.connection.execute(text(f"CREATE TEMPORARY VIEW {STAGING} AS {select_sql}"))
        self._staged_as = "VIEW"
        self.count += count

    def _submit(self) -> None:
        chunk, self._chunk = self._chunk, []
        self._send("".join(chunk) if self.postgres else chunk, len(chunk))

    def _send(self, chunk: str | Iterable[tuple], count: int) -> None:
        """Stage a chunk: PostgreSQL COPY text, or rows for SQLite's executemany."""
        self.count += count
        if self._queue is None:
            self._stage(chunk)
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
            if keep:
                self._merge()
        finally:
            with suppress(Exception):  # a failed transaction is rolled back by the caller
                self.connection.execute(text(f"DROP {self._staged_as} IF EXISTS {STAGING}"))
        if keep:
            self.report.unchanged = self.count - self.report.created - self.report.updated

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._stage(chunk)
                except BaseException as exc:  # handed to the main thread by finish/_submit
                    self._error = exc

    def _merge(self) -> None:
        """Everything staged: one UPDATE and one INSERT, in index order."""
        connection = self.connection
        if self.dry_run:
            created, updated = connection.execute(_COUNT).one()
            self.report.created, self.report.updated = int(created), int(updated)
            return
        large = self.postgres and self.count >= LARGE_IMPORT_ROWS
        if large:
            foreign_key = self._drop_foreign_key()
        self.report.updated = connection.execute(_UPDATE).rowcount
        insert = _INSERT_NEW if self.postgres else _INSERT
        self.report.created = connection.execute(insert).rowcount
        if large:
            connection.execute(AddConstraint(foreign_key))

    def _stage(self, chunk: str | Iterable[tuple]) -> None:
        raw = self.connection.connection.driver_connection
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {STAGING} ({_COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(chunk)
            return
        values = list(chain.from_iterable(chunk))
        step = ROWS_PER_INSERT * len(COLUMNS)
        whole = len(values) - len(values) % step
        insert = f"INSERT INTO {STAGING} ({_COLUMNS}) VALUES "
        raw.executemany(
            insert + ", ".join([_ROW] * ROWS_PER_INSERT),
            (values[start : start + step] for start in range(0, whole, step)),
        )
        rest = iter(values[whole:])
        raw.executemany(insert + _ROW, zip(*[rest] * len(COLUMNS), strict=False))

    def _drop_foreign_key(self) -> ForeignKeyConstraint:
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
        return foreign_key


class BatchStager(Merger):
    """Checked rows into an open batch (see batches) instead of the transactions: staged in
    the temporary table as for a merge, then appended to the batch's rows in one statement,
    so rows staged by an abandoned pass (see transactions.import_rows) never reach it."""

    locks = False  # appending to one's own batch waits for no import

    def __init__(self, connection, report: ImportReport, *, batch_id: int) -> None:
        self.batch_id = batch_id
        super().__init__(connection, report, dry_run=False)

    def _merge(self) -> None:
        self.connection.execute(
            text(
                f"INSERT INTO transaction_batch_rows (batch_id, {_COLUMNS}) "
                f"SELECT :batch, {_COLUMNS} FROM {STAGING}"
            ),
            {"batch": self.batch_id},
        )
