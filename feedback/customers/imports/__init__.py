"""CSV imports of customers, contacts and transactions: all or nothing.

`run_import` reads the whole file and checks every row before it writes anything; a file with
any bad row writes nothing and reports up to 100 problems by line and column. The engine
executes its writes in the session's transaction and does not commit: the CLI and the admin
page commit when the report is clean and this was not a dry run, and roll back otherwise.
A dry run checks the file and counts what would change, writing only to a temporary table.
"""

from __future__ import annotations

from feedback.customers.imports import contacts, customers, transactions
from feedback.customers.imports.reading import UnreadableFile, read_csv
from feedback.customers.imports.records import to_records
from feedback.customers.imports.report import MAX_LISTED_PROBLEMS, ImportReport, Problem
from feedback.errors import DomainError

_IMPORTERS = {
    "customers": customers,
    "contacts": contacts,
    "transactions": transactions,
}
IMPORT_KINDS = tuple(_IMPORTERS)
# Imports that change revenue or potential leave the ABC classes stale.
RECOMPUTE_AFTER = ("customers", "transactions")

__all__ = [
    "IMPORT_KINDS",
    "RECOMPUTE_AFTER",
    "MAX_LISTED_PROBLEMS",
    "ImportReport",
    "Problem",
    "run_import",
    "run_records",
]


def columns_of(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) column names of one kind of file."""
    importer = _IMPORTERS[kind]
    return importer.REQUIRED, importer.OPTIONAL


def run_import(
    kind: str, data: bytes, *, base_currency: str, dry_run: bool = False
) -> ImportReport:
    importer = _IMPORTERS.get(kind)
    if importer is None:
        raise DomainError(f"unknown import kind {kind!r} (use {', '.join(IMPORT_KINDS)})")
    report = ImportReport(kind=kind, dry_run=dry_run)
    try:
        csv_file = read_csv(data)
        report.encoding, report.delimiter = csv_file.encoding, csv_file.delimiter
        index = _column_index(csv_file.header, importer, report)
        if report.ok:
            # The file iterates over its rows; the transactions importer also reads a plain
            # file's columns from it (reading.CsvFile.plain_blocks).
            importer.import_rows(
                csv_file, index, report, base_currency=base_currency, dry_run=dry_run
            )
    except UnreadableFile as exc:
        report.add_problem(None, None, str(exc))
    return report


def run_records(
    kind: str, rows: object, *, base_currency: str, dry_run: bool = False,
    max_listed: int = MAX_LISTED_PROBLEMS, **options,
) -> ImportReport:  # fmt: skip
    """Import the rows of an API request (JSON objects keyed by column name) with the file's
    checks, all or nothing like a file; problems name the 0-based row and the field.
    `options` go to the importer (transactions: `stager`, see batches)."""
    importer = _IMPORTERS.get(kind)
    if importer is None:
        raise DomainError(f"unknown import kind {kind!r} (use {', '.join(IMPORT_KINDS)})")
    report = ImportReport(kind=kind, dry_run=dry_run, line_word="row", max_listed=max_listed)
    columns = importer.REQUIRED + importer.OPTIONAL
    records = to_records(rows, columns, report)
    if records is not None:
        index = {name: position for position, name in enumerate(columns)}
        index["__width__"] = len(columns)
        importer.import_rows(records, index, report, base_currency=base_currency, dry_run=dry_run,
                             **options)  # fmt: skip
    return report


def _column_index(header: list[str], importer, report: ImportReport) -> dict[str, int]:
    """Column name -> position; missing required or repeated columns are problems."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        if name in index:
            report.add_problem(1, name, "the column appears twice in the header")
        elif name in importer.REQUIRED or name in importer.OPTIONAL:
            index[name] = position
        elif name:
            report.ignored_columns.append(name)
    for name in importer.REQUIRED:
        if name not in index:
            report.add_problem(
                1,
                name,
                f"required column is missing (the header has: {', '.join(h for h in header if h)})",
            )
    index["__width__"] = len(header)
    return index
