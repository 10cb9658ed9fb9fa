"""Contacts file: upsert by (customer, e-mail). An import never touches a contact's status,
so an opt-out or a bounce recorded by the service survives the next ERP export."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from feedback.customers.imports.common import cell, well_formed, write_changes
from feedback.customers.imports.report import ImportReport
from feedback.customers.imports.values import BadValue, parse_email, parse_language
from feedback.customers.models import Contact, Customer
from feedback.dbtypes import utcnow
from feedback.extensions import db

REQUIRED = ("customer_external_id", "email")
OPTIONAL = ("name", "language")


def import_rows(rows: Iterable, index: dict, report: ImportReport, *, base_currency, dry_run):
    customers = {
        external_id: (customer_id, language)
        for external_id, customer_id, language in db.session.execute(
            select(Customer.external_id, Customer.id, Customer.language)
        )
    }
    parsed = []
    first_line: dict[tuple[int, str], int] = {}
    for line, row in well_formed(rows, index, report):
        problems_before = report.problem_count
        external_id = cell(row, index, "customer_external_id").strip()
        customer = customers.get(external_id)
        if customer is None:
            message = f"unknown customer {external_id!r}" if external_id else "customer is empty"
            report.add_problem(line, "customer_external_id", message)
        email = language = None
        try:
            email = parse_email(cell(row, index, "email"))
        except BadValue as exc:
            report.add_problem(line, "email", str(exc))
        raw_language = cell(row, index, "language")
        try:
            language = parse_language(raw_language) if raw_language.strip() else None
        except BadValue as exc:
            report.add_problem(line, "language", str(exc))
        name = " ".join(cell(row, index, "name").split())
        if len(name) > 200:
            report.add_problem(line, "name", "name is longer than 200 characters")
        if customer and email:
            key = (customer[0], email)
            if key in first_line:
                report.add_problem(
                    line,
                    "email",
                    f"{email} for {external_id} already appears on {report.place(first_line[key])}",
                )
            else:
                first_line[key] = line
        if report.problem_count == problems_before:
            parsed.append((customer[0], email, name, language, customer[1]))
    if report.ok:
        _write(parsed, report, dry_run=dry_run)


def _write(rows: list[tuple], report: ImportReport, *, dry_run: bool) -> None:
    table = Contact.__table__
    existing = {
        (r.customer_id, r.email): r
        for r in db.session.execute(
            select(table.c.id, table.c.customer_id, table.c.email, table.c.name, table.c.language)
        )
    }
    new, changed = [], []
    now = utcnow()
    for customer_id, email, name, language, customer_language in rows:
        stored = existing.get((customer_id, email))
        if stored is None:
            new.append({
                "customer_id": customer_id, "email": email, "name": name,
                "language": language or customer_language, "status": "active",
                "created_at": now, "updated_at": now,
            })  # fmt: skip
            continue
        wanted_name = name or stored.name
        wanted_language = language or stored.language
        if (wanted_name, wanted_language) != (stored.name, stored.language):
            changed.append({
                "b_key": stored.id, "b_name": wanted_name, "b_language": wanted_language,
                "b_updated_at": now,
            })  # fmt: skip
    write_changes(
        table, table.c.id, new, changed, ("name", "language"),
        total=len(rows), report=report, dry_run=dry_run,
    )  # fmt: skip
