"""`feedback responses export`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from feedback.extensions import db
from feedback.responses import export
from feedback.surveys.models import Wave

responses_cli = AppGroup("responses", help="Survey responses (export).")


@responses_cli.command("export")
@click.option("--wave", "wave_id", type=int, default=None, help="Only this wave.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="File to write (default: standard output).",
)
def export_command(wave_id, fmt, output):
    """Export responses as CSV (one column per scored question) or a JSON array."""
    if wave_id is not None and db.session.get(Wave, wave_id) is None:
        raise click.ClickException(f"no wave {wave_id}")
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        rows = export.iter_rows(wave_id)
        if fmt == "json":
            count = export.write_json(rows, out)
        else:
            count = export.write_csv(rows, out, export.question_keys(wave_id))
    finally:
        if out is not sys.stdout:
            out.close()
    click.echo(f"{count} responses exported.", err=True)
