"""`feedback worker` and `feedback jobs run NAME`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from feedback.jobs.registry import JOBS, run_job

jobs_cli = AppGroup("jobs", help="Background jobs (sending, reminders, closing waves).")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
def run_job_command(name):
    """Run one job now, in this process."""
    app = current_app._get_current_object()
    click.echo(f"{name}: {run_job(app, name)}")


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=2, show_default=True)
@with_appcontext
def worker_command(concurrency):
    """Run a Celery worker with an embedded beat (needs FEEDBACK_REDIS_URL)."""
    app = current_app._get_current_object()
    if not app.config.get("FEEDBACK_REDIS_URL"):
        raise click.ClickException(
            "FEEDBACK_REDIS_URL is not set; without Redis the web app runs the jobs itself"
        )
    from feedback.jobs.celery_app import make_celery

    celery = make_celery(app)
    celery.worker_main(
        ["worker", "--beat", "--loglevel=INFO", f"--concurrency={concurrency}", "-Q", "feedback"]
    )
