"""Transactions file: re-importing the same file, or the same transaction_id, adds nothing.

How duplicates are ruled out (both are unique constraints on `transactions`, so two imports
running at once cannot double a row either):
- a row with a `transaction_id` is identified by (customer, transaction_id); a re-import
  updates its date, amount, currency or kind if the ERP corrected them;
- a row without one is identified by a fingerprint: a hash of customer, date, amount,
  currency, kind and its occurrence number among identical rows in the file. Two identical
  orders on one day in one file are two rows (occurrences 1 and 2); importing that file again,
  or an export that overlaps it, matches both and adds neither.

Rows are checked here and handed to merge.Merger, which loads and merges them in chunks.

A plain file (see reading.CsvFile.plain_blocks), like the records of an API request
(records.Records.plain_blocks), is checked a block at a time, column by column: each
distinct date, currency and kind spelling is parsed once, amounts go through
values.amount_texts, and the sign rules, duplicate transaction_ids and occurrence numbers
are worked out over whole columns. That pass reports nothing: at the first value it cannot
vouch for, it abandons what it staged and the file is read again row by row, which names
every problem by line and column. So both ways accept exactly the same files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import compress, repeat
from operator import methodcaller, not_

from feedback.customers.imports.common import customer_ids, known_currencies, well_formed
from feedback.customers.imports.merge import Merger
from feedback.customers.imports.report import ImportReport
from feedback.customers.imports.values import (
    BadValue,
    amount_text,
    amount_texts,
    parse_currency,
    parse_date,
    parse_kind,
)
from feedback.extensions import db

REQUIRED = ("customer_external_id", "date", "amount", "currency")
OPTIONAL = ("kind", "transaction_id")

# Dates and currencies repeat across a million rows; parse each spelling once.
_date = lru_cache(maxsize=8192)(lambda raw: (day := parse_date(raw), day.isoformat()))
_kind = lru_cache(maxsize=64)(parse_kind)


def import_rows(rows: Iterable, index: dict, report: ImportReport, *, base_currency, dry_run,
                stager: Callable[..., Merger] | None = None):  # fmt: skip
    """Check `rows` and merge them into the transactions, or hand them to `stager` (a
    Merger-like factory of (connection, report, dry_run=...), e.g. a batch's)."""
    stager = stager or Merger
    named = rows.distinct("customer_external_id") if hasattr(rows, "distinct") else None
    lookups = customer_ids(named), known_currencies(base_currency)
    # Column by column only while nothing is wrong yet (a request's rows may already have
    # problems of shape, see records.to_records); otherwise row by row, naming each problem.
    plain = hasattr(rows, "plain_blocks") and report.ok
    blocks = rows.plain_blocks() if plain else None
    if blocks is not None:
        merger = stager(db.session.connection(), report, dry_run=dry_run)
        staged = None
        try:
            staged = _PlainFile(index, *lookups, merger.add_columns).stage_all(blocks)
        finally:
            merger.finish(keep=staged is not None)
        if staged is not None:
            report.rows = staged
            return
    merger = stager(db.session.connection(), report, dry_run=dry_run)
    clean = False
    try:
        _check(rows, index, report, *lookups, stage=merger.add)
        clean = report.ok
    finally:
        merger.finish(keep=clean)


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
            day, day_text = _date(row[i_date])
        except BadValue as exc:
            bad = True
            problem(line, "date", str(exc))
        try:
            amount = amount_text(row[i_amount])
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
        negative = amount[0] == "-"
        if kind is None:
            kind = "credit" if negative else "order"
        if kind == "credit":
            if not negative and amount != "0.00":
                amount = "-" + amount
        elif negative:
            problem(line, "amount", f"an order cannot be negative ({amount}); use kind credit")
            continue
        if external_id:
            key = (customer_id, external_id)
            if key in first_line:
                problem(
                    line,
                    "transaction_id",
                    f"{external_id} for {external_customer} is already on "
                    f"{report.place(first_line[key])}",
                )
                continue
            first_line[key] = line
            stage((customer_id, day_text, amount, currency, kind, external_id, None))
            continue
        identity = (customer_id, day, amount, currency, kind)
        occurrence = occurrences[identity] = occurrences.get(identity, 0) + 1
        stage((customer_id, day_text, amount, currency, kind, None, _fingerprint(
            external_customer, day_text, amount, currency, kind, occurrence
        )))  # fmt: skip


class _PlainFile:
    """Checks and stages a plain file's blocks column by column, with _check's rules.

    The columns of a block are big lists of small strings spread across memory, so each is
    read as few times as possible: one dict look-up per value (a spelling is parsed the first
    time it is met), the amounts joined once, everything else on the results."""

    def __init__(self, index, customers: dict[str, int], currencies: set[str], stage) -> None:
        self.index, self.stage = index, stage
        self.customer_of = _Spellings(lambda raw: customers.get(raw.strip()))
        self.external_of = {id_: external for external, id_ in customers.items()}
        self.day_of = _Spellings(lambda raw: _date(raw)[1])
        self.currency_of = _Spellings(lambda raw: parse_currency(raw, currencies))
        self.kind_of = _Spellings(_kind_or_none)
        self.seen_ids: set[str] = set()  # "customer id\x1ftransaction_id" so far
        self.occurrences: dict[str, int] = {}  # identity -> rows so far (no transaction_id)

    def stage_all(self, blocks) -> int | None:
        """The number of rows staged, or None as soon as any value needs the row-by-row
        check (which then names it)."""
        total = 0
        for columns in blocks:
            try:
                count = None if columns is None else self._stage_block(columns)
            except BadValue:
                return None
            if count is None:
                return None
            total += count
        return total

    def _stage_block(self, columns: list[list[str]]) -> int | None:
        index, count = self.index, len(columns[0])
        customer_id = list(
            map(self.customer_of.__getitem__, columns[index["customer_external_id"]])
        )
        if None in customer_id:
            return None
        day = list(map(self.day_of.__getitem__, columns[index["date"]]))
        amount = amount_texts(columns[index["amount"]])
        currency = list(map(self.currency_of.__getitem__, columns[index["currency"]]))
        i_kind, i_id = index.get("kind"), index.get("transaction_id")
        kind = (
            [None] * count
            if i_kind is None
            else list(map(self.kind_of.__getitem__, columns[i_kind]))
        )
        external_id = [""] * count if i_id is None else list(map(str.strip, columns[i_id]))
        lengths = list(map(len, external_id))
        if max(lengths) > 100:
            return None
        # Credits are stored negative whichever way the ERP signs them; an order can't be.
        negative = list(map(_NEGATIVE, amount)) if "-" in "".join(amount) else [False] * count
        if None in kind:
            kind = [k or ("credit" if n else "order") for k, n in zip(kind, negative, strict=True)]
        if True in negative and any(
            n and k == "order" for k, n in zip(kind, negative, strict=True)
        ):
            return None
        if "credit" in kind:
            amount = [
                "-" + a if k == "credit" and not n and a != "0.00" else a
                for a, k, n in zip(amount, kind, negative, strict=True)
            ]
        # Rows with a transaction_id: each (customer, transaction_id) once in the whole file.
        with_id = count - lengths.count(0)
        if with_id:
            has_id = list(map(bool, lengths))
            values = [compress(c, has_id) for c in (customer_id, day, amount, currency, kind)]
            *values, external_id = map(list, (*values, compress(external_id, has_id)))
            keys = set(map("{}\x1f{}".format, values[0], external_id))
            if len(keys) != with_id or not self.seen_ids.isdisjoint(keys):
                return None
            self.seen_ids |= keys
            self.stage((*values, external_id, None), with_id)
        if with_id == count:
            return count
        # The others: a fingerprint of their content and occurrence, as _fingerprint makes it.
        blank = list(map(not_, lengths))
        values = [compress(c, blank) for c in (customer_id, day, amount, currency, kind)]
        customer_id, day, amount, currency, kind = map(list, values)
        identities = list(map(
            "{}\x1f{}\x1f{}\x1f{}\x1f{}".format,
            map(self.external_of.__getitem__, customer_id), day, amount, currency, kind,
        ))  # fmt: skip
        distinct = set(identities)
        occurrences = self.occurrences
        if len(distinct) == len(identities) and occurrences.keys().isdisjoint(distinct):
            occurrences.update(zip(identities, repeat(1)))
            contents = map(str.__add__, identities, repeat("\x1f1"))
        else:
            contents = map("{}\x1f{}".format, identities, _count_up(identities, occurrences))
        fingerprints = map(_HEXDIGEST, map(hashlib.sha1, map(str.encode, contents)))
        self.stage((customer_id, day, amount, currency, kind, None, fingerprints), len(identities))
        return count


class _Spellings(dict):
    """parse() of each spelling met, worked out the first time it is met."""

    def __init__(self, parse: Callable[[str], object]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, raw: str):
        value = self[raw] = self.parse(raw)
        return value


_NEGATIVE = methodcaller("startswith", "-")
_HEXDIGEST = methodcaller("hexdigest")


def _kind_or_none(raw: str) -> str | None:
    return _kind(raw) if raw.strip() else None


def _count_up(identities: list[str], occurrences: dict[str, int]) -> Iterator[int]:
    for identity in identities:
        occurrence = occurrences[identity] = occurrences.get(identity, 0) + 1
        yield occurrence


def _fingerprint(customer: str, day: str, amount: str, currency, kind, occurrence) -> str:
    content = f"{customer}\x1f{day}\x1f{amount}\x1f{currency}\x1f{kind}\x1f{occurrence}"
    return hashlib.sha1(content.encode()).hexdigest()
