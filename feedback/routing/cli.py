"""`feedback routing check|explain|simulate` and `feedback cases list`."""

from __future__ import annotations

import json
from collections import Counter

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from feedback.auth.models import Team, User
from feedback.cases.models import CASE_STATUSES, Case, RoutingDecision
from feedback.customers.models import Customer
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.routing.engine import subjects
from feedback.routing.rules import RuleError, first_match, load_rules

routing_cli = AppGroup("routing", help="Routing rules: which answers become cases.")
cases_cli = AppGroup("cases", help="Closed-loop cases.")


def _rules():
    try:
        return load_rules(current_app.config["FEEDBACK_ROUTING_FILE"])
    except RuleError as exc:
        raise click.ClickException("\n".join(exc.problems)) from None


@routing_cli.command("check")
def check():
    """Validate the rules file."""
    rules = _rules()
    click.echo(f"{len(rules.rules)} rules OK; default queue: {rules.default_queue}")


@routing_cli.command("explain")
@click.argument("response_id", type=int)
def explain(response_id):
    """Which rule matches a response, and why the ones before it did not."""
    rules = _rules()
    found = subjects([response_id])
    if not found:
        raise click.ClickException(f"no response with id {response_id}")
    subject = found[0]
    match = first_match(rules, subject.facts)
    facts = subject.facts
    click.echo(
        f"Response {response_id}: score {facts.score if facts.score is not None else '-'}, "
        f"CSI {'-' if facts.csi is None else f'{facts.csi:.0f}'}, band {match.band or '-'}, "
        f"class {facts.abc_class or '-'}, programme {facts.programme or '-'}, "
        f"comment {facts.sentiment or 'none'}"
        + (f" ({', '.join(facts.themes)})" if facts.themes else "")
    )
    for reason in match.reasons:
        click.echo(f"  {reason}")
    click.echo(f"Result: {match.rule.key if match.rule else 'no case'}")
    decision = db.session.get(RoutingDecision, response_id)
    if decision is not None:
        click.echo(f"Decided {decision.decided_at.isoformat()}: {decision.rule_key or 'no case'}")


@routing_cli.command("simulate")
@click.option("--wave", "wave_id", type=int, required=True, help="The wave whose answers to try.")
def simulate(wave_id):
    """What the rules would create for a wave's answers; writes nothing."""
    rules = _rules()
    ids = list(db.session.scalars(select(Response.id).where(Response.wave_id == wave_id)))
    if not ids:
        raise click.ClickException(f"wave {wave_id} has no answers")
    counts = Counter(
        (match.rule.key if match.rule else None)
        for match in (first_match(rules, s.facts) for s in subjects(ids))
    )
    click.echo(f"{len(ids)} answers in wave {wave_id}:")
    for rule in rules.rules:
        click.echo(
            f"  {rule.key:<28} {counts.get(rule.key, 0):>6} cases ({rule.priority}, due {rule.due})"
        )
    click.echo(f"  {'(no case)':<28} {counts.get(None, 0):>6}")
    db.session.rollback()


@cases_cli.command("list")
@click.option("--assignee", help="Only cases assigned to this e-mail.")
@click.option("--status", type=click.Choice(CASE_STATUSES), help="Only cases in this status.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_cases(assignee, status, as_json):
    """Cases, soonest due first."""
    query = (
        select(Case, Customer.external_id, User.email, Team.name)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .order_by(Case.due_at, Case.id)
    )
    if assignee:
        user = db.session.scalar(select(User).where(User.email == assignee.strip().lower()))
        if user is None:
            raise click.ClickException(f"no staff user with e-mail {assignee}")
        query = query.where(Case.assignee_id == user.id)
    if status:
        query = query.where(Case.status == status)
    rows = [
        {
            "id": case.id,
            "customer_external_id": external_id,
            "assignee_email": email,
            "team": team,
            "priority": case.priority,
            "status": case.status,
            "due_at": case.due_at.isoformat(),
            "rule": case.rule_key,
            "title": case.title,
        }
        for case, external_id, email, team in db.session.execute(query)
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"#{row['id']:<6} {row['due_at'][:16]}  {row['priority']:<7} {row['status']:<20} "
            f"{row['customer_external_id']:<10} {row['assignee_email'] or row['team']}"
        )
    click.echo(f"{len(rows)} cases")
