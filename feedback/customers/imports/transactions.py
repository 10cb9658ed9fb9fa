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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache

from feedback.customers.imports.common import customer_ids, known_currencies, well_formed
from feedback.customers.imports.merge import Merger
from feedback.customers.imports.report import ImportReport
from feedback.customers.imports.values import (
    BadValue,
    amount_text,
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


def import_rows(rows: Iterable, index: dict, report: ImportReport, *, base_currency, dry_run):
    lookups = customer_ids(), known_currencies(base_currency)
    merger = Merger(db.session.connection(), report, dry_run=dry_run)
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
                    f"{external_id} for {external_customer} is already on line {first_line[key]}",
                )
                continue
            first_line[key] = line
            stage((customer_id, day, amount, currency, kind, external_id, None))
            continue
        identity = (customer_id, day, amount, currency, kind)
        occurrence = occurrences[identity] = occurrences.get(identity, 0) + 1
        stage((customer_id, day, amount, currency, kind, None, _fingerprint(
            external_customer, day_text, amount, currency, kind, occurrence
        )))  # fmt: skip


def _fingerprint(customer: str, day: str, amount: str, currency, kind, occurrence) -> str:
    content = f"{customer}\x1f{day}\x1f{amount}\x1f{currency}\x1f{kind}\x1f{occurrence}"
    return hashlib.sha1(content.encode()).hexdigest()
