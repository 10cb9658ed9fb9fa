"""`feedback reporting rebuild|refresh`: keep the monthly customer facts."""

from __future__ import annotations

import re
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from feedback.extensions import db
from feedback.reporting import build
from feedback.surveys.templates import TemplateError, load_templates

reporting_cli = AppGroup("reporting", help="The pre-computed facts behind the dashboard.")

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _settings() -> dict:
    try:
        templates = load_templates(current_app.config["FEEDBACK_TEMPLATES_DIR"])
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from None
    return build.settings(current_app.config, templates)


def parse_month(value: str, *, latest: date) -> date:
    """A month given as YYYY-MM, no later than `latest` (the current month)."""
    match = _MONTH.fullmatch(value.strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise click.BadParameter(f"{value!r} is not a month; use YYYY-MM, e.g. 2026-03")
    month = date(int(match[1]), int(match[2]), 1)
    if month > latest:
        raise click.BadParameter(
            f"{value} is after the current month ({latest:%Y-%m}); the facts end today"
        )
    return month


def _rebuild_sums(tz, since: date | None = None) -> None:
    """The dashboard's sums of the monthly facts (group_months, predict_months, ...)."""
    from feedback.reporting.facts import MONTHLY_SUMS

    for rebuild_sums in MONTHLY_SUMS.values():
        rebuild_sums(tz, since)


@reporting_cli.command("rebuild")
@click.option("--through", "through_text", metavar="YYYY-MM", default=None,
              help="The last month to build (default: the current month).")  # fmt: skip
def rebuild_command(through_text):
    """Rebuild every customer's monthly facts from the transactions, answers and waves."""
    settings = _settings()
    latest = build.current_month(settings["tz"])
    through = latest
    if through_text is not None:
        try:
            through = parse_month(through_text, latest=latest)
        except click.BadParameter as exc:
            exc.param_hint = "'--through'"
            raise
    result = build.rebuild(through=through, **settings)
    _rebuild_sums(settings["tz"])
    db.session.commit()
    click.echo(result.summary() + ".")


@reporting_cli.command("refresh")
def refresh_command():
    """Recompute the previous and the current month (rebuilds when that is not enough)."""
    settings = _settings()
    result = build.refresh(**settings)
    _rebuild_sums(settings["tz"], None if result.kind == "rebuild" else result.first)
    db.session.commit()
    click.echo(result.summary() + ".")


@reporting_cli.command("facts")
def facts_command():
    """Rebuild the dashboard's answer, funnel and non-response facts (the job does it every
    15 minutes)."""
    from feedback.reporting.facts import rebuild_facts

    result = rebuild_facts(current_app.config)
    db.session.commit()
    click.echo(result.summary() + ".")
