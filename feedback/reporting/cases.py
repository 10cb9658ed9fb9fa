"""case_facts: the cases narrowed for the closed-loop view (see models.CaseFacts), rebuilt
whole like the other dashboard facts (feedback.reporting.facts)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from feedback.reporting.answers import dialect, local_day_sql, replace_facts

_INSERT = """
INSERT INTO case_facts (id, created_day, team_id, assignee_id, kind, survey_id, wave_id,
                        template_key, language, abc_class, programme, status, due_at,
                        closed_at, hours_to_first, hours_to_close, followup_asked,
                        followup_solved, root_cause)
SELECT k.id, {created_day}, k.team_id, k.assignee_id, k.kind, w.survey_id, r.wave_id,
       s.template_key, c.language, cs.abc_class, cs.programme, k.status, k.due_at,
       k.closed_at,
       CASE WHEN k.first_action_at IS NOT NULL
            THEN {hours_first} END,
       CASE WHEN k.status IN ('resolved', 'no_action') AND k.closed_at IS NOT NULL
            THEN {hours_close} END,
       k.followup_sent_at IS NOT NULL OR k.followup_solved IS NOT NULL,
       k.followup_solved, k.root_cause
FROM cases k
JOIN customers c ON c.id = k.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = k.customer_id AND cs.run_id = :run
LEFT JOIN responses r ON r.id = k.response_id
LEFT JOIN waves w ON w.id = r.wave_id
LEFT JOIN surveys s ON s.id = w.survey_id
"""


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
                         hours_close=_hours("k.closed_at", "k.created_at", name))  # fmt: skip
    return replace_facts("case_facts", sql, tz)
