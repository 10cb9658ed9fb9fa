"""The rows of an API request (a list of JSON objects) in the shape the importers read.

An API client sends `{"rows": [{"customer_external_id": "C1", "date": "2026-11-30", ...}]}`
with the CSV file's column names as keys. Every value becomes the text a CSV cell would hold
(numbers keep the digits they were sent with, null is an empty cell), so the importers check
a request exactly as they check a file. Each row's "line" is its 0-based index in `rows`.

A request of well-formed rows (the usual case) is turned into columns with a handful of
whole-list operations, like a plain file (see reading.CsvFile.plain_blocks); only a request
with odd rows goes through them one by one to name each problem.
"""

from __future__ import annotations

from collections.abc import Iterator

from feedback.customers.imports.report import ImportReport


class Records:
    """JSON rows as importer input: `header`, (index, cells) pairs, and columns."""

    def __init__(self, header: tuple[str, ...], columns: list[list[str]], numbers=None) -> None:
        self.header = list(header)
        self.columns = columns  # one list of cell texts per header column
        self.numbers = numbers  # each row's index in the request; None: 0, 1, 2, ...

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        numbers = self.numbers if self.numbers is not None else range(len(self.columns[0]))
        return zip(numbers, map(list, zip(*self.columns, strict=True)), strict=True)

    def plain_blocks(self) -> Iterator[list[list[str]] | None]:
        """All rows as one block of columns (see reading.CsvFile.plain_blocks); None (read
        row by row) if some rows were left out for not being objects, so indexes stay true."""
        if self.numbers is not None:
            return iter([None])
        return iter([self.columns] if self.columns[0] else [])

    def distinct(self, column: str) -> set[str]:
        """The stripped values of one column, e.g. the customers a request names."""
        return set(map(str.strip, self.columns[self.header.index(column)]))


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
    if set(map(type, rows)) <= {dict} and set().union(*rows) <= set(columns):
        cells = [[row.get(name) for row in rows] for name in columns]
        types = [set(map(type, column)) for column in cells]
        texts = ("\x1f".join(filter(None, column)) for column in cells)
        if all(kinds <= {str, type(None)} for kinds in types) and not any(
            "\0" in text
            for text in texts  # no database stores a NUL in text
        ):
            return Records(columns, [
                [value or "" for value in column] if type(None) in kinds else column
                for column, kinds in zip(cells, types, strict=True)
            ])  # fmt: skip
    return _checked_one_by_one(rows, columns, report)


def _checked_one_by_one(rows: list, columns: tuple[str, ...], report: ImportReport) -> Records:
    known = set(columns)
    numbers: list[int] = []
    cells: list[list[str]] = [[] for _ in columns]
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            report.add_problem(number, None, "each row must be an object of column: value")
            continue
        for name in sorted(row.keys() - known):
            report.add_problem(number, name, f"unknown field; use {', '.join(columns)}")
        numbers.append(number)
        for name, column in zip(columns, cells, strict=True):
            value = row.get(name)
            if value is None:
                column.append("")
            elif isinstance(value, str) and "\0" in value:
                report.add_problem(number, name, "holds a NUL character")
                column.append(value.replace("\0", ""))  # checked for the rest, too
            elif isinstance(value, str):
                column.append(value)
            else:  # True/False, lists and objects: a CSV cell could not hold them
                report.add_problem(number, name, "must be a string, a number or null")
                column.append("")
    kept_all = len(numbers) == len(rows)
    return Records(columns, cells, None if kept_all else numbers)
