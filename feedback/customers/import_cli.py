"""`feedback customers|contacts|transactions import FILE [--dry-run] [--no-recompute]`."""

from __future__ import annotations

import sys

import click
from flask import current_app

from feedback.customers.imports import RECOMPUTE_AFTER, run_import
from feedback.customers.segments import recompute_from_config
from feedback.extensions import db


def add_import_commands(customers_cli, contacts_cli, transactions_cli) -> None:
    """Attach the `import` command to each of the three groups."""
    for group, kind in (
        (customers_cli, "customers"),
        (contacts_cli, "contacts"),
        (transactions_cli, "transactions"),
    ):
        group.command("import", help=_HELP[kind])(_import_command(kind))


_HELP = {
    "customers": "Import customers (external_id;name;owner_email;potential;language).",
    "contacts": "Import contacts (customer_external_id;name;email;language).",
    "transactions": (
        "Import transactions (customer_external_id;date;amount;currency;kind[;transaction_id])."
        " Re-importing a file adds nothing."
    ),
}


def _import_command(kind: str):
    @click.argument("file", type=click.File("rb"))
    @click.option("--dry-run", is_flag=True, help="Check the file and report; save nothing.")
    @click.option(
        "--no-recompute",
        is_flag=True,
        help="Do not recompute ABC classes afterwards (when importing several files in a row).",
    )
    def command(file, dry_run, no_recompute):
        data = file.read()
        report = run_import(
            kind, data, base_currency=current_app.config["FEEDBACK_BASE_CURRENCY"], dry_run=dry_run
        )
        if not report.ok or dry_run:
            db.session.rollback()
        if not report.ok:
            for line in report.problem_lines():
                click.echo(f"{file.name}: {line}", err=True)
            click.echo(report.summary(), err=True)
            sys.exit(1)
        recomputed = None
        if (
            not dry_run
            and not no_recompute
            and kind in RECOMPUTE_AFTER
            and report.created + report.updated
        ):
            recomputed = recompute_from_config(current_app.config)
        if not dry_run:
            db.session.commit()
        if report.ignored_columns:
            click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
        click.echo(report.summary())
        if recomputed is not None:
            click.echo(f"Segments recomputed as of {recomputed.as_of.isoformat()}.")

    command.__name__ = f"import_{kind}"
    return command
