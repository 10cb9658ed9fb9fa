"""`feedback tokens ...`: integration tokens for the API."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from feedback.errors import DomainError
from feedback.extensions import db
from feedback.integrations import tokens

tokens_cli = AppGroup("tokens", help="Integration tokens for the API.")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


@tokens_cli.command("create")
@click.argument("name")
@click.option(
    "--scopes",
    metavar="SCOPES",
    help="Comma-separated, from read, write, admin (admin implies write, write implies read).",
)
@click.option(
    "--as",
    "acts_as",
    metavar="EMAIL",
    help="The user whose role the token has when it changes cases (none: it cannot).",
)
def create_token_command(name, scopes, acts_as):
    """Create a token called NAME and print its secret, once."""
    try:
        token, secret = tokens.create_token(name, scopes, acts_as=acts_as)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created token {token.name!r} ({token.prefix}…) with scopes {token.scopes}.")
    click.echo(secret)
    click.echo("Copy the secret now: it will not be shown again (only its hash is stored).")


@tokens_cli.command("list")
def list_tokens_command():
    """Every token, active ones first. Times are UTC."""
    rows = [
        (
            token.name,
            f"{token.prefix}…",
            token.scopes,
            token.acts_as.email if token.acts_as else "-",
            _when(token.created_at),
            _when(token.last_used_at),
            _when(token.revoked_at),
        )
        for token in tokens.list_tokens()
    ]
    if not rows:
        click.echo("No integration tokens yet; create one with `feedback tokens create`.")
        return
    header = ("name", "prefix", "scopes", "acts as", "created", "last used", "revoked")
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@tokens_cli.command("revoke")
@click.argument("name")
def revoke_token_command(name):
    """Revoke the active token called NAME; it stops working at once."""
    try:
        token = tokens.revoke_token(name)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked token {token.name!r} ({token.prefix}…).")
