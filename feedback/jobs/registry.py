"""The jobs and how often they run. Each entry runs inside an app context and commits its own
work; running one twice, or in two processes at once, is harmless (see surveys.dispatch)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable  # run(app) -> str: a one-line summary for the log


def _backend(app):
    from feedback.delivery.backends import backend_from_config

    return backend_from_config(app.config)


def _send_invitations(app) -> str:
    from feedback.jobs.invitations import send_due_invitations

    return send_due_invitations(app.config, _backend(app)).summary()


def _send_reminders(app) -> str:
    from feedback.jobs.invitations import send_due_reminders

    return send_due_reminders(app.config, _backend(app)).summary()


def _close_waves(app) -> str:
    from feedback.jobs.invitations import close_due_waves

    return f"{close_due_waves()} waves closed"


def _route_answers(app) -> str:
    from datetime import timedelta

    from feedback.routing.engine import route_pending
    from feedback.routing.rules import load_rules

    rules = load_rules(app.config["FEEDBACK_ROUTING_FILE"])
    settle = timedelta(minutes=app.config["FEEDBACK_ROUTING_SETTLE_MINUTES"])
    report = route_pending(rules, settle=settle)
    return f"{report.decided} answers routed, {report.cases} cases created"


def _escalate_cases(app) -> str:
    from feedback.cases.escalation import escalate_breached

    return f"{escalate_breached(app.config, _backend(app))} cases escalated"


def _notify_cases(app) -> str:
    from feedback.cases.notify import notify_new_cases

    return f"{notify_new_cases(app.config, _backend(app))} new cases announced"


def _acknowledge_cases(app) -> str:
    from feedback.cases.customer_mail import acknowledge_cases
    from feedback.routing.rules import load_rules

    rules = load_rules(app.config["FEEDBACK_ROUTING_FILE"])
    return f"{acknowledge_cases(app.config, _backend(app), rules)} customers acknowledged"


def _send_case_followups(app) -> str:
    from feedback.cases.customer_mail import send_followups

    return f"{send_followups(app.config, _backend(app))} follow-up questions sent"


def _recompute_churn(app) -> str:
    from feedback.extensions import db
    from feedback.risk.backtests import record_backtest
    from feedback.risk.services import recompute_and_route

    run, opened = recompute_and_route(app.config)
    db.session.commit()
    # The dashboard's backtest, as of a horizon ago (outcomes known), after the scores are
    # safe: it takes as long again, and a failure in it leaves the new scores in place.
    backtest = record_backtest(app.config)
    db.session.commit()
    return (f"churn risk of {run.customer_count} customers ({run.model} model), {opened} cases; "
            f"backtest as of {backtest.as_of.isoformat()} stored")  # fmt: skip


def _followup_overdue(app) -> str:
    from feedback.followups.alerts import alert_overdue
    from feedback.followups.programme import load_programme

    programme = load_programme(app.config["FEEDBACK_FOLLOWUP_FILE"])
    return alert_overdue(app.config, _backend(app), programme).summary()


def _refresh_reporting(app) -> str:
    from feedback.extensions import db
    from feedback.reporting.build import run_job as build_reporting
    from feedback.reporting.facts import rebuild_facts
    from feedback.surveys.templates import load_templates

    templates = load_templates(app.config["FEEDBACK_TEMPLATES_DIR"])
    months = build_reporting(app.config, templates)
    # the other facts: whole in a few seconds; the monthly groups whole after a rebuild
    facts = rebuild_facts(app.config, all_months=months.kind == "rebuild")
    db.session.commit()
    return f"{months.summary()}; {facts.summary()}"


def _forget_idempotency_keys(app) -> str:
    from feedback.api.idempotency import forget_old_keys

    return f"{forget_old_keys()} API idempotency keys past 24 hours forgotten"


def _sweep_transaction_batches(app) -> str:
    from feedback.customers.imports.batches import sweep_batches
    from feedback.extensions import db

    expired, forgotten = sweep_batches()
    db.session.commit()
    return f"{expired} expired transaction batches dropped, {forgotten} closed ones forgotten"


def _deliver_webhooks(app) -> str:
    from feedback.webhooks.dispatch import run

    # bounded: the in-process scheduler runs the other jobs on the same thread
    return run(app.config, budget_seconds=30).summary()


def _refresh_statistics(app) -> str:
    from feedback.maintenance import refresh_statistics

    return refresh_statistics()


JOBS = {
    job.name: job
    for job in (
        Job("send_due_invitations", 60, _send_invitations),
        Job("send_due_reminders", 900, _send_reminders),
        Job("close_due_waves", 300, _close_waves),
        Job("route_answers", 60, _route_answers),
        Job("escalate_breached_cases", 300, _escalate_cases),
        Job("notify_new_cases", 60, _notify_cases),
        Job("acknowledge_cases", 60, _acknowledge_cases),
        Job("send_case_followups", 300, _send_case_followups),
        Job("followup_overdue", 24 * 3600, _followup_overdue),
        Job("refresh_statistics", 6 * 3600, _refresh_statistics),
        # The current and previous month every 15 minutes; the first run after 02:00 local
        # time each day rebuilds every month instead (feedback.reporting.build.run_job).
        Job("refresh_reporting", 900, _refresh_reporting),
        Job("recompute_churn", 7 * 24 * 3600, _recompute_churn),
        Job("forget_idempotency_keys", 3600, _forget_idempotency_keys),
        Job("sweep_transaction_batches", 3600, _sweep_transaction_batches),
        # The scheduler's tick: an event leaves within seconds of its change's commit.
        Job("deliver_webhooks", 5, _deliver_webhooks),
    )
}


def run_job(app, name: str) -> str:
    """Run one job by name in a fresh app context; errors are logged and re-raised."""
    from feedback.extensions import db

    job = JOBS[name]
    with app.app_context():
        try:
            summary = job.run(app)
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
        finally:
            db.session.remove()
    log.info("job %s: %s", name, summary)
    return summary
