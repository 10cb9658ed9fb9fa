"""case_facts: the cases narrowed for the closed-loop view (see models.CaseFacts), rebuilt
whole like the other dashboard facts (feedback.reporting.facts)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from feedback.reporting.answers import dialect, local_day_sql, replace_facts

_INSERT = """
INSERT INTO case_facts (id, created_day, team_id, assignee_id, kind, survey_id, wave_id,
                        template_key, language, abc_class, programme, status, due_at,
                        closed_at, hours_to_first, hours_to_close, first_bucket, close_bucket,
                        followup_asked, followup_solved, root_cause)
SELECT f.id, f.created_day, f.team_id, f.assignee_id, f.kind, f.survey_id, f.wave_id,
       f.template_key, f.language, f.abc_class, f.programme, f.status, f.due_at, f.closed_at,
       f.hours_first, f.hours_close, {first_bucket}, {close_bucket}, f.followup_asked,
       f.followup_solved, f.root_cause
FROM (
SELECT k.id, {created_day} AS created_day, k.team_id, k.assignee_id, k.kind, w.survey_id,
       r.wave_id, s.template_key, c.language, cs.abc_class, cs.programme, k.status, k.due_at,
       k.closed_at,
       CASE WHEN k.first_action_at IS NOT NULL
            THEN {hours_first} END AS hours_first,
       CASE WHEN k.status IN ('resolved', 'no_action') AND k.closed_at IS NOT NULL
            THEN {hours_close} END AS hours_close,
       k.followup_sent_at IS NOT NULL OR k.followup_solved IS NOT NULL AS followup_asked,
       k.followup_solved, k.root_cause
FROM cases k
JOIN customers c ON c.id = k.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = k.customer_id AND cs.run_id = :run
LEFT JOIN responses r ON r.id = k.response_id
LEFT JOIN waves w ON w.id = r.wave_id
LEFT JOIN surveys s ON s.id = w.survey_id
) f
"""


def bucket_sql(hours: str, dialect: str) -> str:
    """SQL: `hours` (never negative) to about two significant figures (0.1 h below 10 h,
    whole hours below 100, tens above), so a view counts a few hundred distinct durations,
    not one per case; medians are exact to that precision (dashboards/queries/loop.py).
    Half rounds up on both databases: PostgreSQL's CAST to integer rounds where SQLite's
    truncates."""
    whole = "FLOOR({})" if dialect == "postgresql" else "CAST({} AS INTEGER)"

    def to(step: str) -> str:
        return f"{whole.format(f'{hours} / {step} + 0.5')} * {step}"

    return (f"CASE WHEN {hours} < 10 THEN {to('0.1')} WHEN {hours} < 100 THEN {to('1.0')} "
            f"ELSE {to('10.0')} END")  # fmt: skip


def _hours(later: str, earlier: str, dialect: str) -> str:
    """SQL: the hours from `earlier` to `later`, never below zero."""
    if dialect == "postgresql":
        span = f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0"
    else:
        span = f"(julianday({later}) - julianday({earlier})) * 24.0"
    return f"CASE WHEN {later} < {earlier} THEN 0.0 ELSE {span} END"


def rebuild_case_facts(tz: ZoneInfo) -> int:
    name = dialect()
    sql = _INSERT.format(created_day=local_day_sql("k.created_at", name),
                         hours_first=_hours("k.first_action_at", "k.created_at", name),
                         hours_close=_hours("k.closed_at", "k.created_at", name),
                         first_bucket=bucket_sql("f.hours_first", name),
                         close_bucket=bucket_sql("f.hours_close", name))  # fmt: skip
    return replace_facts("case_facts", sql, tz)
