"""Batches: a night's transactions sent through the API in many requests, merged once.

A client opens a batch, adds rows in requests of up to 10,000 (each checked like a file and
refused whole, with every problem, if any row is bad), and commits: every staged row is
merged into `transactions` in one pass, the way a file of the same rows is. Nothing reaches
`transactions` before the commit, and the commit is all or nothing, so a night's orders
land together or not at all.

Why not only the one-off bulk upsert: merging 10,000 rows into a large table touches index
pages all over it and, on PostgreSQL, checks the customer key row by row; a batch appends to
its own rows per request and pays for the merge once, as a file does (on PostgreSQL a large
merge checks the key once for all rows).

The rows of a batch mean what the same requests sent one after another to the bulk upsert
would: each request's fingerprints count identical rows within that request, and where two
requests hold the same identity (customer and transaction_id, or fingerprint) the later row
wins (counted as `superseded`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from feedback.customers.imports import run_records
from feedback.customers.imports.merge import COLUMNS, BatchStager, Merger
from feedback.customers.imports.report import ImportReport
from feedback.customers.models import StagedTransaction, TransactionBatch
from feedback.dbtypes import utcnow
from feedback.errors import Conflict, DomainError, NotFound
from feedback.extensions import db

KEEP_OPEN = timedelta(hours=24)  # an open batch not committed by then is dropped
KEEP_CLOSED = timedelta(days=7)  # how long a closed batch's result can still be read

_COLUMNS = ", ".join(COLUMNS)
_IDENTITY = "customer_id, coalesce(external_id, fingerprint)"  # the identity index's key
_IDENTITIES = f"""
SELECT count(*) FROM (SELECT 1 FROM transaction_batch_rows WHERE batch_id = :batch
                      GROUP BY {_IDENTITY}) identities
"""
_ALL = f"SELECT {_COLUMNS} FROM transaction_batch_rows WHERE batch_id = {{batch:d}}"
# The newest staged row of each identity. Grouping only the key and the id, then reading
# the rows by id, is twice as fast as a window function carrying whole rows (SQLite).
_LATEST = f"""
SELECT {_COLUMNS} FROM transaction_batch_rows WHERE id IN (
  SELECT max(id) FROM transaction_batch_rows WHERE batch_id = :batch GROUP BY {_IDENTITY})
"""


class BatchFull(DomainError):
    """The rows would take the batch past its limit."""


def open_batch(token_id: int, *, now: datetime | None = None) -> TransactionBatch:
    now = now or utcnow()
    batch = TransactionBatch(token_id=token_id, status="open", rows=0, requests=0,
                             created_at=now, expires_at=now + KEEP_OPEN)  # fmt: skip
    db.session.add(batch)
    db.session.flush()
    return batch


def find_batch(batch_id: int, token_id: int, *, lock: str | None = None) -> TransactionBatch:
    """The batch the token opened; NotFound for another token's (or none). lock="update"
    holds it alone (a commit or a drop); lock="share" lets adds run side by side but not
    beside a commit: a commit waits for the adds in flight, and an add that comes after
    waits for the commit and then finds the batch closed. Each takes the batch first, the
    staged rows second, so the two cannot deadlock (PostgreSQL; SQLite has one writer)."""
    query = select(TransactionBatch).where(
        TransactionBatch.id == batch_id, TransactionBatch.token_id == token_id
    )
    if lock == "update":
        query = query.with_for_update()
    elif lock == "share":  # FOR KEY SHARE: the adds' own counting UPDATEs do not wait on it
        query = query.with_for_update(read=True, key_share=True)
    batch = db.session.scalar(query)
    if batch is None:
        raise NotFound(f"There is no batch {batch_id}.")
    return batch


def _require_open(batch: TransactionBatch, now: datetime) -> None:
    if batch.status == "open" and batch.expires_at <= now:
        raise Conflict(f"Batch {batch.id} expired unsaved at {batch.expires_at:%Y-%m-%d %H:%M} "
                       "UTC; open a new one.")  # fmt: skip
    if batch.status != "open":
        raise Conflict(f"Batch {batch.id} is {batch.status}; open a new one.")


def add_rows(batch: TransactionBatch, rows: object, *, base_currency: str, max_rows: int,
             max_listed: int, now: datetime | None = None) -> ImportReport:  # fmt: skip
    """Check the rows as the bulk upsert does and stage them in the batch if all are good
    (the report lists the problems otherwise, and nothing is staged)."""
    _require_open(batch, now or utcnow())
    if isinstance(rows, list) and batch.rows + len(rows) > max_rows:
        raise BatchFull(
            f"A batch holds at most {max_rows:,} rows; this one has {batch.rows:,} and the "
            f"request adds {len(rows):,}. Commit it and open another."
        )

    def stager(connection, report, *, dry_run):
        return BatchStager(connection, report, batch_id=batch.id)

    report = run_records("transactions", rows, base_currency=base_currency,
                         max_listed=max_listed, stager=stager)  # fmt: skip
    if report.ok:
        # Counted in place, so requests may add to one batch at once; one that finds the
        # batch closed meanwhile (a commit waits for nobody) is refused and adds nothing.
        counted = db.session.execute(
            update(TransactionBatch)
            .where(TransactionBatch.id == batch.id, TransactionBatch.status == "open")
            .values(rows=TransactionBatch.rows + report.rows,
                    requests=TransactionBatch.requests + 1)
            .execution_options(synchronize_session=False)
        ).rowcount  # fmt: skip
        if not counted:
            raise Conflict(f"Batch {batch.id} was closed while these rows were added; "
                           "none were added.")  # fmt: skip
        db.session.refresh(batch)
    return report


def commit_batch(batch: TransactionBatch, *, now: datetime | None = None) -> ImportReport:
    """Merge the batch's rows into the transactions (the newest row of each identity) and
    close it. The caller commits; a customer deleted since its rows were staged is a
    Conflict, and nothing is saved."""
    now = now or utcnow()
    _require_open(batch, now)
    report = ImportReport(kind="transactions", dry_run=False)
    merger = Merger(db.session.connection(), report, dry_run=False)
    kept = False
    try:
        # Counting the identities first costs about as much as copying the rows: the usual
        # batch repeats none, and is then merged from its rows as they are.
        key = {"batch": batch.id}
        if merger.postgres:  # a million identities hash in memory rather than sort on disk
            db.session.execute(text("SET LOCAL work_mem = '128MB'"))
        latest = db.session.execute(text(_IDENTITIES), key).scalar_one()
        if merger.postgres:
            db.session.execute(text("RESET work_mem"))
        if latest < batch.rows:
            merger.stage_query(_LATEST, key)
        else:  # merged straight from the batch's rows: nothing to drop, nothing to copy
            merger.stage_view(_ALL.format(batch=batch.id), latest)
        kept = True
    finally:
        try:
            merger.finish(keep=kept)
        except IntegrityError:
            raise Conflict(
                f"A customer named in batch {batch.id} was deleted after its rows were sent; "
                "nothing was saved. Open a new batch without that customer's rows."
            ) from None
    report.rows = batch.rows
    batch.created, batch.updated = report.created, report.updated
    batch.unchanged, batch.superseded = report.unchanged, batch.rows - latest
    _close(batch, "committed", now)
    return report


def abandon_batch(batch: TransactionBatch, *, now: datetime | None = None) -> None:
    """Drop an open batch and its rows."""
    now = now or utcnow()
    _require_open(batch, now)
    _close(batch, "abandoned", now)


def _close(batch: TransactionBatch, status: str, now: datetime) -> None:
    """Close the batch and drop its rows: the whole table at once when no other batch is
    open (a million rows deleted one by one cost PostgreSQL 0.7 s; TRUNCATE, or SQLite's
    DELETE without WHERE, next to nothing)."""
    batch.status, batch.closed_at = status, now
    db.session.flush()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:  # no batch opens (or is counted) between the look and the TRUNCATE
        db.session.execute(text("LOCK TABLE transaction_batches IN SHARE ROW EXCLUSIVE MODE"))
    others_open = db.session.scalar(select(func.count()).where(
        TransactionBatch.status == "open", TransactionBatch.id != batch.id
    ))  # fmt: skip
    if others_open:
        db.session.execute(delete(StagedTransaction).where(StagedTransaction.batch_id == batch.id))
    else:
        db.session.execute(text("TRUNCATE transaction_batch_rows" if postgres
                                else "DELETE FROM transaction_batch_rows"))  # fmt: skip


def sweep_batches(*, now: datetime | None = None) -> tuple[int, int]:
    """Drop open batches past their expiry (with their rows) and forget closed ones after
    KEEP_CLOSED: (expired, forgotten). The caller commits."""
    now = now or utcnow()
    expired = db.session.scalars(select(TransactionBatch.id).where(
        TransactionBatch.status == "open", TransactionBatch.expires_at <= now
    )).all()  # fmt: skip
    if expired:
        db.session.execute(delete(StagedTransaction).where(StagedTransaction.batch_id.in_(expired)))
        db.session.execute(
            update(TransactionBatch).where(TransactionBatch.id.in_(expired))
            .values(status="abandoned", closed_at=now)
        )  # fmt: skip
    forgotten = db.session.execute(delete(TransactionBatch).where(
        TransactionBatch.status != "open", TransactionBatch.closed_at < now - KEEP_CLOSED
    )).rowcount  # fmt: skip
    return len(expired), forgotten
