"""`feedback customers|contacts|transactions|currencies|segments ...`"""

from __future__ import annotations

import json
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from feedback.customers.import_cli import add_import_commands
from feedback.customers.segments import recompute_from_config
from feedback.customers.services import customer_summary, set_currency_rate
from feedback.errors import DomainError
from feedback.extensions import db

customers_cli = AppGroup("customers", help="Customers (import, show).")
contacts_cli = AppGroup("contacts", help="Customer contacts (import).")
transactions_cli = AppGroup("transactions", help="Revenue transactions (import).")
currencies_cli = AppGroup("currencies", help="Exchange rates into the base currency.")
segments_cli = AppGroup("segments", help="ABC classes and Grow/Retain programmes.")

add_import_commands(customers_cli, contacts_cli, transactions_cli)


@customers_cli.command("show")
@click.argument("external_id")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def show_customer(external_id, as_json):
    """Show one customer with class, programme, revenue and contacts."""
    base = current_app.config["FEEDBACK_BASE_CURRENCY"]
    try:
        summary = customer_summary(external_id, base_currency=base)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    click.echo(f"{summary['name']} ({summary['external_id']})")
    click.echo(f"  owner:      {summary['owner_email'] or '(none)'}")
    click.echo(f"  potential:  {summary['potential']}   language: {summary['language']}")
    klass = summary["abc_class"] or "not computed yet"
    click.echo(f"  class:      {klass}   programme: {summary['programme'] or '-'}")
    click.echo(f"  revenue 12m: {summary['revenue_12m']} {summary['currency']}")
    for contact in summary["contacts"]:
        click.echo(f"  contact:    {contact['name']} <{contact['email']}> {contact['status']}")


@currencies_cli.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("code")
@click.argument("rate")
def set_currency(code, rate):
    """Set CODE's rate: units of the base currency per one unit of CODE (e.g. DKK 0.134)."""
    base = current_app.config["FEEDBACK_BASE_CURRENCY"]
    try:
        stored = set_currency_rate(code, rate, base_currency=base)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"1 {stored.currency} = {stored.rate.normalize():f} {base}")


@segments_cli.command("recompute")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the 12-month revenue window (default: today).",
)
def recompute(as_of):
    """Recompute every customer's ABC class and programme and store a dated snapshot."""
    as_of_date: date = as_of.date() if as_of else date.today()
    run = recompute_from_config(current_app.config, as_of_date)
    db.session.commit()
    click.echo(
        f"Segments as of {run.as_of.isoformat()}: {run.customer_count} customers, "
        f"revenue {run.total_revenue} {run.base_currency} (thresholds {run.thresholds} %)."
    )
