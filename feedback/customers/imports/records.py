"""The rows of an API request (a list of JSON objects) in the shape the importers read.

An API client sends `{"rows": [{"customer_external_id": "C1", "date": "2026-11-30", ...}]}`
with the CSV file's column names as keys. Every value becomes the text a CSV cell would hold
(numbers keep the digits they were sent with, null is an empty cell), so the importers check
a request exactly as they check a file. Each row's "line" is its 0-based index in `rows`.
"""

from __future__ import annotations

from collections.abc import Iterator

from feedback.customers.imports.report import ImportReport


class Records:
    """JSON rows as importer input: `header`, (index, cells) pairs, and columns."""

    def __init__(self, header: tuple[str, ...], rows: list[tuple[int, list[str]]]) -> None:
        self.header = list(header)
        self.rows = rows  # (index in the request, cells)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return iter(self.rows)

    def plain_blocks(self) -> Iterator[list[list[str]] | None]:
        """All rows as one block of columns (see reading.CsvFile.plain_blocks); None (read
        row by row) if a row was left out for not being an object, so indexes stay true."""
        if not self.rows:
            return iter(())
        if self.rows[-1][0] != len(self.rows) - 1:
            return iter([None])
        cells = [row for _, row in self.rows]
        return iter([[list(column) for column in zip(*cells, strict=True)]])


def to_records(rows: object, columns: tuple[str, ...], report: ImportReport) -> Records | None:
    """Check the request's shape (a list of objects whose keys are known columns, whose values
    are strings, numbers or null) and turn it into Records; None if `rows` is no list. A
    misshapen row or value is a problem, and the rest of its row still goes to the
    importer's checks, so one response lists everything to fix (the report is then not ok,
    and the caller saves nothing).

    `rows` was parsed with floats and ints kept as their literal text (see api.bodies), so
    an amount of 1234.50 arrives here as "1234.50", not as a float."""
    if not isinstance(rows, list):
        report.add_problem(None, "rows", "rows must be a list of objects")
        return None
    known = set(columns)
    cells: list[tuple[int, list[str]]] = []
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            report.add_problem(number, None, "each row must be an object of column: value")
            continue
        for name in sorted(row.keys() - known):
            report.add_problem(number, name, f"unknown field; use {', '.join(columns)}")
        values = []
        for name in columns:
            value = row.get(name)
            if value is None:
                values.append("")
            elif isinstance(value, str):
                values.append(value)
            else:  # True/False, lists and objects: a CSV cell could not hold them
                report.add_problem(number, name, "must be a string, a number or null")
                values.append("")
        cells.append((number, values))
    return Records(columns, cells)
