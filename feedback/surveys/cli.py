"""`feedback templates ...`"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from feedback.surveys.templates import TemplateError, load_templates

templates_cli = AppGroup("templates", help="Survey templates (YAML in survey_templates/).")


@templates_cli.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Templates folder (default: FEEDBACK_TEMPLATES_DIR).",
)
def check_templates(directory):
    """Validate every template: languages, fields, placeholders, scales."""
    try:
        templates = load_templates(directory or current_app.config["FEEDBACK_TEMPLATES_DIR"])
    except TemplateError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in the templates") from None
    for template in templates.values():
        scored = sum(1 for q in template.questions if q.scale)
        click.echo(
            f"{template.source}: OK — {len(template.questions)} questions ({scored} scored), "
            f"primary {template.primary.key!r}, version {template.content_hash()[:12]}"
        )
