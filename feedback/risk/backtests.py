"""Stored churn backtests: the weekly churn job (and the demo) runs the backtest as of a
date far enough back that its outcomes are known, and keeps the result, so the dashboard
shows how well the score foresees churn without running it per click."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete

from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.risk import churn
from feedback.risk.models import ChurnBacktest
from feedback.surveys.templates import load_templates


def record_backtest(config, *, as_of: date | None = None, today: date | None = None,
                    horizon_days: int = churn.DEFAULT_HORIZON) -> ChurnBacktest:  # fmt: skip
    """Run the backtest as of `as_of` (default: today − horizon, the newest date whose
    outcomes are all known) and store it, replacing one stored for the same date and
    horizon. Flushes; the caller commits. DomainError and TemplateError reach the caller."""
    today = today or date.today()
    as_of = as_of or today - timedelta(days=horizon_days)
    templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
    result = churn.backtest(
        as_of, horizon_days=horizon_days, base_currency=config["FEEDBACK_BASE_CURRENCY"],
        nps_template_keys=churn.nps_templates(templates), today=today,
    )  # fmt: skip
    db.session.execute(
        delete(ChurnBacktest).where(
            ChurnBacktest.as_of == as_of, ChurnBacktest.horizon_days == horizon_days
        )
    )
    stored = ChurnBacktest(as_of=as_of, horizon_days=horizon_days, result=result,
                           computed_at=utcnow())  # fmt: skip
    db.session.add(stored)
    db.session.flush()
    return stored
