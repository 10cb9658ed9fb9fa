"""The demo's churn scores: weekly runs over the last quarter, so the customer page shows
risk over time, and today's run routed into churn cases like the weekly job does."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from feedback.cases.models import Case
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.risk.backtests import record_backtest
from feedback.risk.churn import recompute_from_config
from feedback.risk.services import recompute_and_route
from feedback.surveys.templates import load_templates

WEEKS_BACK = 12


def seed_churn(config, today: date) -> tuple[int, str, int]:
    """Returns (customers scored today, model, churn cases opened)."""
    templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
    for weeks in range(WEEKS_BACK, 0, -1):
        recompute_from_config(config, templates, today - timedelta(weeks=weeks))
    run, opened = recompute_and_route(config, as_of=today, announce=False)
    # The demo starts in a steady state: owners have had the mail about their new churn cases.
    db.session.execute(
        update(Case)
        .where(Case.kind == "churn_risk", Case.notified_at.is_(None))
        .values(notified_at=utcnow())
    )
    record_backtest(config, today=today)  # the dashboard's "Does NPS predict?" table
    return run.customer_count, run.model, opened or 0
