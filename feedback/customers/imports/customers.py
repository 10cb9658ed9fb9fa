"""Customers file: upsert by external_id. An empty optional cell keeps the stored value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from feedback.customers.imports.common import (
    cell,
    user_ids_by_email,
    well_formed,
    write_changes,
)
from feedback.customers.imports.report import ImportReport
from feedback.customers.imports.values import (
    BadValue,
    parse_email,
    parse_language,
    parse_potential,
    required_text,
)
from feedback.customers.models import Customer
from feedback.dbtypes import utcnow
from feedback.extensions import db

REQUIRED = ("external_id", "name")
OPTIONAL = ("owner_email", "potential", "language")
_FIELDS = ("name", "owner_id", "potential", "language")


@dataclass
class _Row:
    external_id: str
    name: str
    owner_id: int | None  # None: keep (or none for a new customer)
    potential: str | None
    language: str | None


def import_rows(rows: Iterable, index: dict, report: ImportReport, *, base_currency, dry_run):
    users = user_ids_by_email()
    parsed: list[_Row] = []
    first_line: dict[str, int] = {}
    for line, row in well_formed(rows, index, report):
        problems_before = report.problem_count
        values = {}
        for column, parse in (
            ("external_id", lambda v: required_text(v, "external_id", 64)),
            ("name", lambda v: required_text(v, "name", 300)),
            ("potential", lambda v: parse_potential(v) if v.strip() else None),
            ("language", lambda v: parse_language(v) if v.strip() else None),
            ("owner_email", lambda v: _owner(v, users)),
        ):
            try:
                values[column] = parse(cell(row, index, column))
            except BadValue as exc:
                report.add_problem(line, column, str(exc))
        external_id = values.get("external_id")
        if external_id in first_line:
            report.add_problem(
                line,
                "external_id",
                f"{external_id} already appears on {report.place(first_line[external_id])}",
            )
        elif external_id:
            first_line[external_id] = line
        if report.problem_count == problems_before:
            parsed.append(
                _Row(
                    external_id,
                    values["name"],
                    values["owner_email"],
                    values["potential"],
                    values["language"],
                )
            )
    if report.ok:
        _write(parsed, report, dry_run=dry_run)


def _owner(raw: str, users: dict[str, int]) -> int | None:
    if not raw.strip():
        return None
    email = parse_email(raw)
    if email not in users:
        raise BadValue(f"no staff user with e-mail {email} (create the user first)")
    return users[email]


def _write(rows: list[_Row], report: ImportReport, *, dry_run: bool) -> None:
    table = Customer.__table__
    existing = {
        r.external_id: r
        for r in db.session.execute(
            select(table.c.external_id, table.c.name, table.c.owner_id, table.c.potential,
                   table.c.language)
        )
    }  # fmt: skip
    new, changed = [], []
    now = utcnow()
    for row in rows:
        stored = existing.get(row.external_id)
        if stored is None:
            new.append({
                "external_id": row.external_id, "name": row.name, "owner_id": row.owner_id,
                "potential": row.potential or "medium", "language": row.language or "en",
                "created_at": now, "updated_at": now,
            })  # fmt: skip
            continue
        wanted = {
            "name": row.name,
            "owner_id": row.owner_id if row.owner_id is not None else stored.owner_id,
            "potential": row.potential or stored.potential,
            "language": row.language or stored.language,
        }
        if any(wanted[f] != getattr(stored, f) for f in _FIELDS):
            changed.append(
                {"b_key": row.external_id, "b_updated_at": now}
                | {f"b_{f}": v for f, v in wanted.items()}
            )
    write_changes(
        table, table.c.external_id, new, changed, _FIELDS,
        total=len(rows), report=report, dry_run=dry_run,
    )  # fmt: skip
