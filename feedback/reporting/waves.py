"""invitation_facts and outcome_facts: the response funnel and the non-response trend of
the dashboard, counted per wave and filter dimensions (see the models). Rebuilt whole,
like answer_days (feedback.reporting.facts)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from feedback.reporting.answers import dialect, local_day_sql, replace_facts

# The funnel's steps, as dashboards/queries/funnel.py documents them.
_INVITATIONS = """
INSERT INTO invitation_facts (wave_id, survey_id, template_key, sent_day, language, abc_class,
                              programme, owner_id, invited, delivered, opened, answered)
SELECT i.wave_id, w.survey_id, s.template_key, {sent_day}, i.language, cs.abc_class,
       cs.programme, c.owner_id, COUNT(*),
       SUM(CASE WHEN i.state IN ('sent', 'delivered', 'answered') OR r.id IS NOT NULL
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN i.state = 'answered' OR r.id IS NOT NULL
                  OR (i.state IN ('sent', 'delivered') AND e.invitation_id IS NOT NULL)
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN i.state = 'answered' OR r.id IS NOT NULL THEN 1 ELSE 0 END)
FROM invitations i
JOIN waves w ON w.id = i.wave_id
JOIN surveys s ON s.id = w.survey_id
JOIN customers c ON c.id = i.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = i.customer_id AND cs.run_id = :run
LEFT JOIN responses r ON r.invitation_id = i.id
LEFT JOIN (SELECT DISTINCT invitation_id FROM invitation_events
           WHERE kind IN ('open', 'click')) e ON e.invitation_id = i.id
WHERE w.sent_at IS NOT NULL AND i.state NOT IN ('pending', 'sending')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""

_OUTCOMES = """
INSERT INTO outcome_facts (wave_id, survey_id, template_key, closed_day, language, abc_class,
                           programme, owner_id, silent, counted)
SELECT o.wave_id, w.survey_id, s.template_key, {closed_day}, l.language, cs.abc_class,
       cs.programme, c.owner_id,
       SUM(CASE WHEN o.outcome = 'non_response' THEN 1 ELSE 0 END), COUNT(*)
FROM wave_outcomes o
JOIN waves w ON w.id = o.wave_id
JOIN surveys s ON s.id = w.survey_id
JOIN customers c ON c.id = o.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = o.customer_id AND cs.run_id = :run
LEFT JOIN (SELECT wave_id, customer_id, MIN(language) AS language FROM invitations
           GROUP BY wave_id, customer_id) l
       ON l.wave_id = o.wave_id AND l.customer_id = o.customer_id
WHERE o.outcome IN ('answered', 'non_response')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""


def rebuild_invitation_facts(tz: ZoneInfo) -> int:
    sql = _INVITATIONS.format(sent_day=local_day_sql("w.sent_at", dialect()))
    return replace_facts("invitation_facts", sql, tz)


def rebuild_outcome_facts(tz: ZoneInfo) -> int:
    sql = _OUTCOMES.format(closed_day=local_day_sql("o.closed_at", dialect()))
    return replace_facts("outcome_facts", sql, tz)
