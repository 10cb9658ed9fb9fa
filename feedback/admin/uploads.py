"""CSV uploads from the admin page: the CLI's import engine, then a segment refresh.

The engine executes its writes without committing; the view commits only when the outcome is
`saved` (the file was clean and this was not a dry run), and rolls back otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback.customers.imports import (
    IMPORT_KINDS,
    RECOMPUTE_AFTER,
    ImportReport,
    columns_of,
    run_import,
)
from feedback.customers.segments import recompute_from_config


@dataclass
class UploadOutcome:
    report: ImportReport
    dry_run: bool
    segments_recomputed: bool = False

    @property
    def saved(self) -> bool:
        return self.report.ok and not self.dry_run


# Shown on the page so people can prepare a file.
COLUMN_NOTES = {
    "external_id": "the ERP's customer number",
    "name": "",
    "owner_email": "e-mail of the staff member who owns the customer",
    "potential": "high, medium or low (new customers: medium)",
    "language": "en, da, sv or nb (also dansk, svenska, norsk …)",
    "customer_external_id": "the customer's number, as in the customers file",
    "email": "one contact per customer and e-mail address",
    "date": "dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd",
    "amount": "1234,50 or 1.234,50 or 1 234,50 or 1234.50",
    "currency": "EUR, DKK, SEK, NOK … (needs an exchange rate)",
    "kind": "order or credit (a negative amount is a credit)",
    "transaction_id": "the ERP's invoice number; keeps re-imports from doubling",
}


def import_kinds() -> tuple[str, ...]:
    return IMPORT_KINDS


def expected_columns() -> dict[str, list[tuple[str, str]]]:
    """kind -> [(column, note)], required columns marked."""
    table = {}
    for kind in IMPORT_KINDS:
        required, optional = columns_of(kind)
        table[kind] = [(name, _note(name, True)) for name in required] + [
            (name, _note(name, False)) for name in optional
        ]
    return table


def _note(name: str, required: bool) -> str:
    note = COLUMN_NOTES.get(name, "")
    if required:
        return f"required; {note}" if note else "required"
    return f"optional; {note}" if note else "optional"


def import_upload(
    kind: str, data: bytes, *, config, dry_run: bool, recompute: bool
) -> UploadOutcome:
    """Import one uploaded file; recompute segments after a saved customers/transactions import."""
    report = run_import(kind, data, base_currency=config["FEEDBACK_BASE_CURRENCY"], dry_run=dry_run)
    outcome = UploadOutcome(report=report, dry_run=dry_run)
    changed = report.created + report.updated
    if outcome.saved and recompute and kind in RECOMPUTE_AFTER and changed:
        recompute_from_config(config)
        outcome.segments_recomputed = True
    return outcome
