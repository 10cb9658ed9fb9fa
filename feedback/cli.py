"""The `feedback` console script: Flask's CLI over create_app, commands grouped by noun.

The command groups sit on the console script's group itself, so `feedback --help` and
`feedback waves --help` work without building the app (and so without FEEDBACK_SECRET_KEY).
Each command builds the app only when it runs (Flask's `with_appcontext`, which every
AppGroup command has); a setting the app cannot start with then stops it with a one-line
message. The same groups are also added to `app.cli` by create_app, for
`flask --app feedback ...` and `app.test_cli_runner()`.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


def project_commands() -> list[click.Command]:
    """Every project command group: add a new group here, and it appears everywhere."""
    from flask_migrate.cli import db as db_cli
    from flask_smorest.spec import openapi_cli

    from dashboards.cli import report_cli
    from feedback.auth.cli import users_cli
    from feedback.customers.cli import (
        contacts_cli,
        currencies_cli,
        customers_cli,
        segments_cli,
        transactions_cli,
    )
    from feedback.demo.cli import demo_cli
    from feedback.followups.cli import followups_cli
    from feedback.integrations.cli import tokens_cli
    from feedback.jobs.cli import jobs_cli, worker_command
    from feedback.reporting.cli import reporting_cli
    from feedback.responses.cli import responses_cli
    from feedback.risk.cli import churn_cli
    from feedback.risk.history_cli import history_cli
    from feedback.routing.cli import cases_cli, routing_cli
    from feedback.surveys.cli import templates_cli
    from feedback.surveys.wave_cli import surveys_cli, waves_cli
    from feedback.webhooks.cli import webhooks_cli

    return [
        db_cli,  # Flask-Migrate adds it to app.cli itself; listed so help shows it without an app
        users_cli,
        customers_cli,
        contacts_cli,
        transactions_cli,
        currencies_cli,
        segments_cli,
        demo_cli,
        templates_cli,
        surveys_cli,
        waves_cli,
        routing_cli,
        cases_cli,
        responses_cli,
        history_cli,
        churn_cli,
        followups_cli,
        report_cli,
        reporting_cli,
        jobs_cli,
        tokens_cli,
        webhooks_cli,
        openapi_cli,  # flask-smorest's `openapi print|write`: the API's OpenAPI document
        worker_command,
    ]


def register_commands(app) -> None:
    """Put the project commands on app.cli (`flask --app feedback`, app.test_cli_runner())."""
    for command in project_commands():
        app.cli.add_command(command)


def _create_app():
    from feedback import create_app
    from feedback.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


class FeedbackGroup(FlaskGroup):
    """A FlaskGroup that knows the project commands without loading the app.

    Flask's own group lists and finds app commands by building the app first; here the
    groups are registered on this group (on first use, so importing this module stays
    cheap and free of import cycles), and the app is built only by a command that runs.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._added_project_commands = False

    def _add_project_commands(self) -> None:
        if not self._added_project_commands:
            for command in project_commands():
                self.add_command(command)
            self._added_project_commands = True

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._add_project_commands()
        try:
            return super().get_command(ctx, name)
        except click.ClickException:
            # Only an unknown name gets here: Flask builds the app to look in app.cli.
            # If the app cannot be built, say "No such command", not "set the secret key".
            return None

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Flask's list_commands would build the app to add app.cli's commands; this
        # group already holds them all (plus Flask's and plugins'), so skip that.
        self._add_project_commands()
        self._load_plugin_commands()
        return sorted(click.Group.list_commands(self, ctx))


main = FeedbackGroup(create_app=_create_app, help="Feedback Loop management commands.")
