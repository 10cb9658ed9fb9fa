"""`feedback surveys create` and `feedback waves create|preview|send|remind|close`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from feedback.dbtypes import utcnow
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.surveys import dispatch
from feedback.surveys.audience import preview_audience
from feedback.surveys.services import (
    build_audience,
    create_survey,
    create_wave,
    find_survey,
    owner_ids_by_email,
)
from feedback.surveys.services import get_wave as _get_wave
from feedback.surveys.templates import TemplateError, load_templates

surveys_cli = AppGroup("surveys", help="Surveys: a template with a name.")
waves_cli = AppGroup("waves", help="Waves: one sending of a survey to an audience.")


def _fail(exc: Exception):
    db.session.rollback()
    raise click.ClickException(str(exc)) from None


def _templates():
    try:
        return load_templates(current_app.config["FEEDBACK_TEMPLATES_DIR"])
    except TemplateError as exc:
        _fail(exc)


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


@surveys_cli.command("create")
@click.option("--template", "template_key", required=True, help="Template key, e.g. nps.")
@click.option("--name", required=True, help="A unique name, e.g. 'NPS autumn 2026'.")
def create_survey_command(template_key, name):
    """Create a survey from a template."""
    try:
        survey = create_survey(name, template_key, templates=_templates(), actor=None)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created survey {survey.id}: {survey.name} ({survey.template_key}).")


@waves_cli.command("create")
@click.option("--survey", "survey_ref", required=True, help="Survey name or id.")
@click.option("--class", "classes", default=None, help="ABC classes, e.g. A,B.")
@click.option("--programme", default=None, help="grow or retain.")
@click.option("--language", "languages", default=None, help="Contact languages, e.g. da,sv.")
@click.option("--owner", "owners", default=None, help="Owner e-mails, comma-separated.")
@click.option(
    "--customers",
    "customer_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File with one customer external id per line.",
)
@click.option("--close-after-days", type=click.IntRange(1, 365), default=14, show_default=True)
@click.option("--reminder-days", default="3,7", show_default=True, help="Empty for none.")
@click.option(
    "--send-at",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    default=None,
    help="Local time (FEEDBACK_TIMEZONE) to send; default: when `waves send` runs.",
)
def create_wave_command(
    survey_ref, classes, programme, languages, owners, customer_file, **settings
):
    """Create a draft wave and print its id."""
    from zoneinfo import ZoneInfo

    try:
        survey = find_survey(survey_ref)
        owner_ids = owner_ids_by_email(_split(owners))
        external_ids = []
        if customer_file is not None:
            text = customer_file.read_bytes().decode("utf-8-sig", errors="replace")
            external_ids = [line.split(";")[0].split(",")[0] for line in text.splitlines()]
        audience = build_audience(
            classes=_split(classes),
            programme=programme,
            languages=_split(languages),
            owner_ids=owner_ids,
            customer_external_ids=external_ids,
        )
        send_at = settings["send_at"]
        if send_at is not None:
            send_at = send_at.replace(tzinfo=ZoneInfo(current_app.config["FEEDBACK_TIMEZONE"]))
        wave = create_wave(
            survey,
            audience=audience,
            actor=None,
            send_at=send_at,
            reminder_days=settings["reminder_days"],
            close_after_days=settings["close_after_days"],
        )
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(wave.id)


def _wave(wave_id):
    try:
        return _get_wave(wave_id)
    except DomainError as exc:
        _fail(exc)


@waves_cli.command("preview")
@click.argument("wave_id")
def preview_wave(wave_id):
    """How many contacts the wave would invite, and who is skipped and why."""
    wave = _wave(wave_id)
    preview = preview_audience(
        wave, now=utcnow(), quiet_days=current_app.config["FEEDBACK_QUIET_DAYS"]
    )
    click.echo(f"Wave {wave.id} ({wave.survey.name}), {wave.status}:")
    for line in preview.lines():
        click.echo(line)


def _backend():
    from feedback.delivery.backends import backend_from_config

    return backend_from_config(current_app.config)


@waves_cli.command("send")
@click.argument("wave_id")
def send_wave(wave_id):
    """Send a draft wave now (or schedule it, if its send time lies ahead)."""
    from feedback.jobs.invitations import send_due_invitations

    wave, now, config = _wave(wave_id), utcnow(), current_app.config
    try:
        created = dispatch.send_or_schedule(
            wave, templates=_templates(), now=now, quiet_days=config["FEEDBACK_QUIET_DAYS"]
        )
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    if created is None:
        click.echo(f"Wave {wave.id} is scheduled for {wave.send_at.isoformat()}.")
        return
    click.echo(f"Wave {wave.id}: {created} invitations created.")
    report = send_due_invitations(config, _backend(), now=now, wave_id=wave.id)
    click.echo(f"Wave {wave.id}: {report.summary()}.")
    if report.errors:
        raise SystemExit(1)


@waves_cli.command("remind")
@click.argument("wave_id")
def remind_wave(wave_id):
    """Send the reminders that are due now for an open wave."""
    from feedback.jobs.invitations import send_due_reminders

    wave = _wave(wave_id)
    if wave.status != "open":
        _fail(DomainError(f"wave {wave.id} is {wave.status}; reminders go to open waves only"))
    report = send_due_reminders(current_app.config, _backend(), wave_id=wave.id)
    click.echo(f"Wave {wave.id}: reminders {report.summary()}.")
    if report.errors:
        raise SystemExit(1)


@waves_cli.command("close")
@click.argument("wave_id")
def close_wave_command(wave_id):
    """Close a wave now: its links then show a friendly 'closed' page."""
    wave = _wave(wave_id)
    try:
        dispatch.close_wave(wave, now=utcnow())
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Wave {wave.id} is closed.")
