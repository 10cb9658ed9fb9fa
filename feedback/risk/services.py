"""The churn job as the CLI and the scheduler run it: recompute, then route high risk."""

from __future__ import annotations

from datetime import date

from feedback.dbtypes import utcnow
from feedback.risk import churn
from feedback.risk.announce import announce_high_risk
from feedback.risk.cases import open_churn_cases
from feedback.risk.models import ChurnRun
from feedback.routing.rules import load_rules
from feedback.surveys.templates import load_templates


def recompute_and_route(
    config, *, as_of: date | None = None, horizon_days: int | None = None, announce: bool = True
) -> tuple[ChurnRun, int | None]:
    """Store the run; open churn cases only for a run as of today (a backfilled past date
    is history, not news), and then, unless `announce` is off (the demo), write the webhook
    events: case.created, and churn.high_risk for customers who entered the high band.
    Returns the run and the cases opened (None: not routed).
    Flushes; the caller commits. RuleError and TemplateError reach the caller."""
    today = date.today()
    templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
    rules = load_rules(config["FEEDBACK_ROUTING_FILE"])  # read first: a bad file stops early
    run = churn.recompute_from_config(config, templates, as_of or today, horizon_days)
    if run.as_of != today:
        return run, None
    now = utcnow()
    opened = open_churn_cases(rules, run, now=now, announce=announce)
    if announce:
        announce_high_risk(run, now=now)
    return run, opened
