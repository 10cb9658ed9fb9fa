"""The dashboard's facts besides customer_months: answer_days, driver_days, theme_days,
invitation_facts, outcome_facts and case_facts, rebuilt whole, and group_months,
predict_months and risk_months (sums of customer_months), rebuilt from the previous month
on or, after the monthly facts were rebuilt, whole. Comments not yet analysed are analysed
first (feedback.analysis.store), so theme_days counts them. Kept by the `refresh_reporting`
job and `feedback reporting facts`. Each build is recorded in reporting_builds, so the
dashboard can say how old its figures are."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from feedback.analysis.store import analyse_pending, themes_file
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.reporting.answers import (
    rebuild_answer_days,
    rebuild_driver_days,
    rebuild_theme_days,
)
from feedback.reporting.cases import rebuild_case_facts
from feedback.reporting.groups import rebuild_group_months
from feedback.reporting.models import ReportingBuild
from feedback.reporting.outcomes import rebuild_predict_months, rebuild_risk_months
from feedback.reporting.waves import rebuild_invitation_facts, rebuild_outcome_facts

BUILDERS = {
    "answer_days": rebuild_answer_days,
    "driver_days": rebuild_driver_days,
    "theme_days": rebuild_theme_days,
    "invitation_facts": rebuild_invitation_facts,
    "outcome_facts": rebuild_outcome_facts,
    "case_facts": rebuild_case_facts,
}

# Sums of customer_months, rebuilt from a month on (see rebuild_facts).
MONTHLY_SUMS = {
    "group_months": rebuild_group_months,
    "predict_months": rebuild_predict_months,
    "risk_months": rebuild_risk_months,
}


@dataclass
class FactsResult:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = ", ".join(f"{table} {rows:,} rows" for table, rows in self.rows.items())
        return f"dashboard facts rebuilt in {self.seconds:.1f} s: {parts}"


def rebuild_facts(config, now: datetime | None = None, *, all_months: bool = True) -> FactsResult:
    """Rebuild the fact tables and record when; the sums of customer_months only from the
    previous month on unless `all_months` (after a rebuild of customer_months). Flushes;
    the caller commits."""
    tz = ZoneInfo(config["FEEDBACK_TIMEZONE"])
    now = now or utcnow()
    started = time.perf_counter()
    result = FactsResult()
    # Kept incrementally, not rebuilt: its count is of the comments this run analysed.
    themes = themes_file(config["FEEDBACK_TEMPLATES_DIR"])
    result.rows["comment_analyses"] = analyse_pending(themes)
    for table, build in BUILDERS.items():
        result.rows[table] = build(tz)
        _record(table, now, result.rows[table], config["FEEDBACK_BASE_CURRENCY"], tz)
    this_month = now.astimezone(tz).date().replace(day=1)
    since = None if all_months else (this_month - timedelta(days=1)).replace(day=1)
    for table, build in MONTHLY_SUMS.items():
        result.rows[table] = build(tz, since)
        _record(table, now, result.rows[table], config["FEEDBACK_BASE_CURRENCY"], tz)
    result.seconds = time.perf_counter() - started
    return result


def _record(table: str, now: datetime, rows: int, base_currency: str, tz: ZoneInfo) -> None:
    build = db.session.get(ReportingBuild, table)
    if build is None:
        build = ReportingBuild(table_name=table)
        db.session.add(build)
    build.rebuilt_at = build.refreshed_at = now
    build.through = now.astimezone(tz).date()
    build.base_currency = base_currency
    build.rows = rows
    build.transaction_mark = build.response_mark = 0
    db.session.flush()
