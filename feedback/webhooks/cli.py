"""`feedback webhooks ...`: outgoing webhook endpoints, their deliveries, and the job."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from feedback.errors import DomainError
from feedback.extensions import db
from feedback.outbox import EVENT_TYPES
from feedback.webhooks import services

webhooks_cli = AppGroup("webhooks", help="Outgoing signed webhooks (Standard Webhooks).")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def _refuse(exc: DomainError):
    db.session.rollback()
    raise click.ClickException(str(exc)) from None


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@webhooks_cli.command("add")
@click.argument("url")
@click.option(
    "--events",
    required=True,
    metavar="EVENTS",
    help=f"Comma-separated, from {', '.join(EVENT_TYPES)}; or * for all.",
)
@click.option("--description", default="", help="Who receives it, e.g. 'CRM' or '#cs-alerts'.")
def add_command(url, events, description):  # fmt: skip
    """Register an endpoint at URL and print its signing secret."""
    try:
        endpoint = services.add_endpoint(
            url, events, description=description,
            allow_http=current_app.config["FEEDBACK_WEBHOOKS_ALLOW_HTTP"],
        )  # fmt: skip
        db.session.commit()
    except DomainError as exc:
        _refuse(exc)
    click.echo(f"Added endpoint #{endpoint.id} {endpoint.url} for {', '.join(endpoint.events)}.")
    click.echo(endpoint.secret)
    click.echo("The signing secret (verify with standardwebhooks.Webhook(secret).verify); "
               "admins can also see it on the endpoint's admin page.")  # fmt: skip


@webhooks_cli.command("list")
def list_command():
    """Every endpoint, with its events and state."""
    endpoints = services.list_endpoints()
    if not endpoints:
        click.echo("No webhook endpoints yet; add one with `feedback webhooks add URL --events`.")
        return
    rows = [
        (str(e.id), e.url, ",".join(e.events), "enabled" if e.enabled else
         f"disabled {_when(e.disabled_at)}", e.description or "-")
        for e in endpoints
    ]  # fmt: skip
    _table(("id", "url", "events", "state", "description"), rows)


@webhooks_cli.command("remove")
@click.argument("endpoint_id")
def remove_command(endpoint_id):
    """Delete endpoint ENDPOINT_ID with its delivery log."""
    try:
        endpoint = services.get_endpoint(endpoint_id)
        url = endpoint.url
        services.remove_endpoint(endpoint)
        db.session.commit()
    except DomainError as exc:
        _refuse(exc)
    click.echo(f"Removed endpoint #{endpoint_id} {url}.")


@webhooks_cli.command("rotate-secret")
@click.argument("endpoint_id")
def rotate_command(endpoint_id):
    """A new signing secret; the old one keeps signing for 24 hours."""
    try:
        endpoint = services.get_endpoint(endpoint_id)
        secret = services.rotate_secret(endpoint)
        db.session.commit()
    except DomainError as exc:
        _refuse(exc)
    click.echo(secret)
    click.echo(f"Both secrets sign until {_when(endpoint.previous_secret_expires_at)} UTC: "
               "switch the receiver to the new one before then.")  # fmt: skip


@webhooks_cli.command("enable")
@click.argument("endpoint_id")
def enable_command(endpoint_id):
    """Deliver to ENDPOINT_ID again (its pending deliveries are due at once)."""
    try:
        endpoint = services.enable_endpoint(services.get_endpoint(endpoint_id))
        db.session.commit()
    except DomainError as exc:
        _refuse(exc)
    click.echo(f"Enabled endpoint #{endpoint.id} {endpoint.url}.")


@webhooks_cli.command("disable")
@click.argument("endpoint_id")
def disable_command(endpoint_id):
    """Stop delivering to ENDPOINT_ID."""
    try:
        endpoint = services.disable_endpoint(
            services.get_endpoint(endpoint_id), "Disabled from the command line"
        )
        db.session.commit()
    except DomainError as exc:
        _refuse(exc)
    click.echo(f"Disabled endpoint #{endpoint.id} {endpoint.url}.")


@webhooks_cli.command("deliveries")
@click.argument("endpoint_id")
@click.option("--failed", is_flag=True, help="Only deliveries that gave up.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def deliveries_command(endpoint_id, failed, limit):
    """The latest deliveries to ENDPOINT_ID. Times are UTC."""
    try:
        endpoint = services.get_endpoint(endpoint_id)
    except DomainError as exc:
        _refuse(exc)
    page = services.deliveries(endpoint, failed_only=failed, per_page=limit)
    if not page.items:
        click.echo("No deliveries.")
        return
    rows = [
        (str(d.id), d.event.type, d.subject, d.state, str(d.attempts),
         str(d.last_status or "-"), f"{d.last_duration_ms} ms" if d.last_duration_ms is not None
         else "-", _when(d.next_attempt_at) if d.state == "pending" else "-",
         d.last_error[:60] or "-")
        for d in page.items
    ]  # fmt: skip
    _table(("id", "event", "subject", "state", "tries", "status", "time", "next", "error"), rows)


@webhooks_cli.command("resend")
@click.argument("delivery_id")
def resend_command(delivery_id):
    """Send delivery DELIVERY_ID's event again (same webhook-id) at the next run."""
    try:
        delivery = services.resend(services.get_delivery(delivery_id))
        db.session.commit()
    except DomainError as exc:
        _refuse(exc)
    click.echo(f"Delivery #{delivery.id} is pending again; `feedback webhooks deliver` sends it.")


@webhooks_cli.command("deliver")
def deliver_command():
    """Fan out new events and deliver what is due, once."""
    from feedback.webhooks.dispatch import run

    report = run(current_app.config)
    click.echo(report.summary())
