"""`feedback demo seed`: a realistic demo company in an empty database."""

from __future__ import annotations

import time
from datetime import date

import click
import numpy as np
from flask import current_app
from flask.cli import AppGroup

from feedback.cases.models import CASE_STATUSES
from feedback.demo.churn import WEEKS_BACK, seed_churn
from feedback.demo.followups import seed_followups
from feedback.demo.seed import (
    MAX_CUSTOMERS,
    MAX_YEARS,
    check_request,
    existing_customers,
    logins_path,
    seed_demo,
    write_logins,
)
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.maintenance import refresh_statistics

demo_cli = AppGroup("demo", help="Realistic demo data.")


@demo_cli.command("seed")
@click.option("--customers", default=2000, show_default=True, help=f"1 to {MAX_CUSTOMERS:,}.")
@click.option("--years", default=3, show_default=True, help=f"Years of history, 1 to {MAX_YEARS}.")
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--if-empty", is_flag=True, help="Do nothing if there are customers already.")
def seed_command(customers, years, seed, if_empty):
    """Create demo staff, customers, contacts, transactions and class history."""
    try:
        check_request(customers, years)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    path = logins_path(current_app.instance_path)
    present = existing_customers()
    if present and if_empty:
        click.echo(f"Demo data already present ({present} customers); logins are in {path}")
        return
    if present:
        raise click.ClickException(
            f"The database already holds {present} customers. The demo only loads into a fresh "
            "database: point DATABASE_URL at an empty one (then `feedback db upgrade`), "
            "or use --if-empty to skip."
        )
    started = time.perf_counter()
    try:
        result = seed_demo(current_app.config, customers=customers, years=years, seed=seed)
        db.session.commit()
        scored, model, churn_cases = seed_churn(current_app.config, date.today())
        contacts = seed_followups(current_app.config, np.random.default_rng(seed), date.today())
        db.session.commit()
        from feedback.reporting.build import rebuild_from_config
        from feedback.reporting.facts import rebuild_facts

        rebuild_from_config(current_app.config)  # the dashboard's monthly customer facts
        rebuild_facts(current_app.config)  # and its answer, funnel and non-response facts
        db.session.commit()
        refresh_statistics()  # the planner sees the demo's real sizes from the first page
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    write_logins(path, result.logins)
    click.echo(
        f"Seeded {result.customers:,} customers, {result.contacts:,} contacts and "
        f"{result.transactions:,} transactions, {result.invitations:,} survey invitations and "
        f"{result.responses:,} answers in {time.perf_counter() - started:.1f} s "
        f"(seed {seed})."
    )
    if result.cases:
        by_status = ", ".join(
            f"{result.cases[s]:,} {s.replace('_', ' ')}" for s in CASE_STATUSES if s in result.cases
        )
        click.echo(f"Cases worked on those answers: {sum(result.cases.values()):,} ({by_status}).")
        if result.cases_within_sla is not None:
            click.echo(f"{result.cases_within_sla:.0%} of the closed cases met their deadline.")
    click.echo(f"Churn risk: {scored:,} active customers scored weekly over the last "
               f"{WEEKS_BACK} weeks ({model} model); {churn_cases:,} new churn cases.")  # fmt: skip
    click.echo(f"Follow-up contacts logged over the last year: {contacts:,}.")
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo(f"Logins (also in {path}, readable only by you):")
    for email, role, password in result.logins:
        click.echo(f"  {email:<40} {role:<8} {password}")
