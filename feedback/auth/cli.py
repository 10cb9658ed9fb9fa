"""`feedback users ...`"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from feedback.auth.models import ROLES
from feedback.auth.services import create_user, generate_password
from feedback.errors import DomainError
from feedback.extensions import db

users_cli = AppGroup("users", help="Staff accounts.")


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--team", "team_name", default=None, help="Team name; created if new.")
@click.option("--name", default="", help="Full name shown in the UI.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--generate-password", "generated", is_flag=True, help="Generate a password, print it once."
)
def create_user_command(email, role, team_name, name, password_stdin, generated):
    """Create a staff user. Without flags the password is asked for at a prompt."""
    if password_stdin and generated:
        raise click.UsageError("use either --password-stdin or --generate-password, not both")
    if generated:
        password = generate_password()
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif stdin_is_terminal():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise click.UsageError(
            "no password given: pipe it with --password-stdin, or use --generate-password"
        )
    try:
        user = create_user(email, role, password, name=name, team_name=team_name)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    team = f", team {user.team.name}" if user.team else ""
    click.echo(f"Created {user.role} {user.email}{team}.")
    if generated:
        click.echo(f"Password (shown once): {password}")
