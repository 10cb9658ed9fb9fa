"""`feedback followups check|overdue|alert|log`: the follow-up programme from the shell."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from feedback.auth.models import User
from feedback.customers.services import get_customer
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.followups.programme import CLASSES, PROGRAMMES, ProgrammeError, load_programme
from feedback.followups.services import contact_moment, followup_status, log_contact
from feedback.followups.status import local_today, overdue_statuses, resolve_teams
from feedback.risk.models import CONTACT_KINDS

followups_cli = AppGroup(
    "followups", help="The Grow–Retain follow-up programme: overdue customers, alerts, contacts."
)


def _programme():
    try:
        return load_programme(current_app.config["FEEDBACK_FOLLOWUP_FILE"])
    except ProgrammeError as exc:
        raise click.ClickException("\n".join(exc.problems)) from None


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("FEEDBACK_TIMEZONE") or "UTC")


@followups_cli.command("check")
def check():
    """Validate the programme file and say which teams it names that do not exist."""
    programme = _programme()
    for klass in CLASSES:
        for name in PROGRAMMES:
            rule = programme.rule(klass, name)
            click.echo(f"  {klass} {name:<6}  {rule.every:<16} by {rule.by}")  # type: ignore[union-attr]
    click.echo(f"Customers without an owner: {programme.fallback}")
    missing = sorted(
        name for name in programme.team_names() if name.lower() not in resolve_teams(programme)
    )
    if missing:
        raise click.ClickException(f"no team named {', '.join(missing)}: create it or fix the file")
    click.echo("OK")


@followups_cli.command("overdue")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def overdue(as_json):
    """List every customer whose follow-up is overdue today, most overdue first."""
    programme, tz = _programme(), _tz()
    statuses = overdue_statuses(programme, local_today(tz), tz=tz)
    rows = [
        {
            "customer_external_id": s.external_id,
            "name": s.name,
            "abc_class": s.abc_class,
            "programme": s.programme,
            "every": s.rule.every if s.rule else None,
            "by": s.rule.by if s.rule else None,
            "responsible": s.responsible.label,
            "owner_email": s.owner_email,
            "last_contact": s.last_contact_at.astimezone(tz).date().isoformat()
            if s.last_contact_at
            else None,
            "due_on": s.due_on.isoformat() if s.due_on else None,
            "overdue_days": s.overdue_days,
        }
        for s in statuses
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['customer_external_id']:<12} {row['name'][:40]:<40} {row['abc_class']} "
            f"{row['programme']:<6} {row['every']:<16} last {row['last_contact'] or 'never':<10} "
            f"due {row['due_on']}  {row['overdue_days']:>4} d overdue  {row['responsible']}"
        )
    click.echo(f"{len(rows)} customers overdue." if rows else "No follow-ups overdue.")


@followups_cli.command("alert")
def alert():
    """Run the overdue alert job once: mail each person their newly overdue customers."""
    from feedback.delivery.backends import backend_from_config
    from feedback.followups.alerts import alert_overdue

    report = alert_overdue(current_app.config, backend_from_config(current_app.config),
                           _programme())  # fmt: skip
    click.echo(report.summary())


def _moment(text: str | None, tz: ZoneInfo) -> datetime | None:
    """--at: a day (YYYY-MM-DD) or a time (YYYY-MM-DD HH:MM) in company time."""
    if text is None:
        return None
    text = text.strip()
    try:
        return contact_moment(date.fromisoformat(text), tz=tz)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a day (YYYY-MM-DD) or a time (YYYY-MM-DD HH:MM)", param_hint="--at"
        ) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


@followups_cli.command("log")
@click.argument("external_id")
@click.option("--kind", type=click.Choice(CONTACT_KINDS), required=True, help="What it was.")
@click.option("--by", "by_email", required=True, help="E-mail of the staff member.")
@click.option("--note", default="", help="What was said or agreed.")
@click.option("--at", "at_text", default=None, help="When: YYYY-MM-DD [HH:MM] (default: now).")
def log(external_id, kind, by_email, note, at_text):
    """Log a contact with customer EXTERNAL_ID (a call, meeting, e-mail or note)."""
    programme, tz = _programme(), _tz()
    at = _moment(at_text, tz)
    person = db.session.scalar(select(User).where(User.email == by_email.strip().lower()))
    if person is None:
        raise click.ClickException(f"no staff member with e-mail {by_email.strip()!r}")
    try:
        customer = get_customer(external_id)
        log_contact(customer, person, kind, at or datetime.now(tz), note, programme=programme,
                    tz=tz)  # fmt: skip
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    status = followup_status([customer.id], local_today(tz), programme=programme, tz=tz)
    due = status[customer.id].due_on
    click.echo(
        f"Logged a {kind} with {customer.name} ({customer.external_id}) by {person.email}"
        + (f"; next contact due {due.isoformat()}." if due else ".")
    )
