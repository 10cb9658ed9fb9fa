"""`feedback history import FILE --survey NAME [--template nps|csi] [--dry-run]`."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from feedback.customers.imports.reading import DELIMITER_NAMES
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.risk.history import import_history
from feedback.surveys.templates import TemplateError, load_templates

history_cli = AppGroup("history", help="Survey history from another tool (NPS, CSI).")


@history_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--survey", "survey_name", required=True, help="The survey to import into; created if new."
)
@click.option(
    "--template",
    "template_key",
    type=click.Choice(["nps", "csi"]),
    default=None,
    help="The survey's template (default: an existing survey's own, nps for a new one).",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report; save nothing.")
def import_command(file, survey_name, template_key, dry_run):
    """Import answers and non-answers, one row per invitation (email;sent_at;answered_at;
    score;comment[;wave][;language]), or a Delighted responses export. Re-importing a file
    adds nothing."""
    config = current_app.config
    try:
        templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
        report = import_history(
            file.read(), survey_name=survey_name, template_key=template_key,
            templates=templates, zone=ZoneInfo(config["FEEDBACK_TIMEZONE"]), dry_run=dry_run,
        )  # fmt: skip
        if report.ok and not dry_run:
            db.session.commit()
    except (DomainError, TemplateError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(
            "another import into this survey saved first, so nothing was saved here: "
            "run the import again (it adds only what is still missing)"
        ) from None
    if not report.ok or dry_run:
        db.session.rollback()
    if not report.ok:
        for line in report.problem_lines():
            click.echo(f"{file.name}: {line}", err=True)
        click.echo(report.summary(), err=True)
        sys.exit(1)
    delimiter = DELIMITER_NAMES.get(report.delimiter, report.delimiter)
    click.echo(f"Read {file.name} as a {report.layout} ({report.encoding}, {delimiter}).")
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    for note in report.duplicates:
        click.echo(note)
    click.echo(report.summary())
