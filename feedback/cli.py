"""The `feedback` console script: Flask's CLI over create_app, commands grouped by noun."""

from __future__ import annotations

from flask.cli import FlaskGroup


def register_commands(app) -> None:
    from feedback.auth.cli import users_cli
    from feedback.customers.cli import (
        contacts_cli,
        currencies_cli,
        customers_cli,
        segments_cli,
        transactions_cli,
    )
    from feedback.demo.cli import demo_cli
    from feedback.jobs.cli import jobs_cli, worker_command
    from feedback.responses.cli import responses_cli
    from feedback.routing.cli import cases_cli, routing_cli
    from feedback.surveys.cli import templates_cli
    from feedback.surveys.wave_cli import surveys_cli, waves_cli

    for group in (
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
        jobs_cli,
        worker_command,
    ):
        app.cli.add_command(group)


def _create_app():
    import click

    from feedback import create_app
    from feedback.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


main = FlaskGroup(create_app=_create_app, help="Feedback Loop management commands.")
