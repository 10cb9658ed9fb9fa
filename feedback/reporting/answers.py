"""answer_days: answers summed per local day, wave and filter dimensions (see
models.AnswerDay), and likewise driver_days (rating answers) and theme_days (the stored
comment analyses, see feedback.analysis.store). Each is rebuilt whole in one transaction
(readers see the old rows until it commits): at a million responses that is a few seconds
of database time, cheaper and simpler than tracking which days changed (answers are
edited, customers change class and owner)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import text

from feedback.extensions import db
from feedback.reporting.models import ALL_COMMENTS, NO_THEME

TABLE = "answer_days"

_INSERT = """
INSERT INTO answer_days (day, wave_id, survey_id, template_key, language, abc_class, programme,
                         owner_id, answers, promoters, passives, detractors, csi_n, csi_sum,
                         csi_sumsq, comments)
SELECT {day} AS day, r.wave_id, w.survey_id, s.template_key, r.language, cs.abc_class,
       cs.programme, c.owner_id, COUNT(*),
       SUM(CASE WHEN r.score >= 9 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.score BETWEEN 7 AND 8 THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.score <= 6 THEN 1 ELSE 0 END),
       COUNT(r.csi), COALESCE(SUM(r.csi), 0), COALESCE(SUM(r.csi * r.csi), 0),
       SUM(CASE WHEN r.comment <> '' THEN 1 ELSE 0 END)
FROM responses r
JOIN waves w ON w.id = r.wave_id
JOIN surveys s ON s.id = w.survey_id
JOIN customers c ON c.id = r.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = r.customer_id AND cs.run_id = :run
GROUP BY 1, r.wave_id, w.survey_id, s.template_key, r.language, cs.abc_class, cs.programme,
         c.owner_id
"""


def local_day_sql(column: str, dialect: str) -> str:
    """SQL: the date of a UTC timestamp column in the time zone bound as :tz (SQLite has no
    time zones: there it is a Python function registered on every connection, see
    feedback.extensions)."""
    if dialect == "postgresql":
        return f"CAST(timezone(:tz, {column}) AS DATE)"
    return f"feedback_local_day({column}, :tz)"


def dialect() -> str:
    return db.session.get_bind().dialect.name


def replace_facts(table: str, insert_sql: str, tz: ZoneInfo) -> int:
    """Empty `table` and fill it with `insert_sql` (which may use :run, the newest segment
    run, and :tz), in the caller's transaction: readers see the old rows until it commits.
    Flushes; the caller commits. Returns rows written."""
    session = db.session
    if dialect() == "postgresql":
        session.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))  # one builder at a time
    run = session.scalar(text("SELECT id FROM segment_runs ORDER BY as_of DESC LIMIT 1"))
    session.execute(text(f"DELETE FROM {table}"))
    return session.execute(text(insert_sql), {"run": run, "tz": tz.key}).rowcount


def rebuild_answer_days(tz: ZoneInfo) -> int:
    """Replace answer_days with a fresh count (see models.AnswerDay)."""
    sql = _INSERT.format(day=local_day_sql("r.answered_at", dialect()))
    return replace_facts("answer_days", sql, tz)


_DRIVERS = """
INSERT INTO driver_days (day, wave_id, survey_id, template_key, question_key, language,
                         abc_class, programme, owner_id, n, sx, sxx, m, px, pxx, sy, syy, sxy)
SELECT {day} AS day, r.wave_id, w.survey_id, s.template_key, a.question_key, r.language,
       cs.abc_class, cs.programme, c.owner_id, COUNT(*), SUM(a.score), SUM(a.score * a.score),
       COUNT(r.csi), COALESCE(SUM(CASE WHEN r.csi IS NOT NULL THEN a.score END), 0),
       COALESCE(SUM(CASE WHEN r.csi IS NOT NULL THEN a.score * a.score END), 0),
       COALESCE(SUM(r.csi), 0), COALESCE(SUM(r.csi * r.csi), 0), COALESCE(SUM(a.score * r.csi), 0)
FROM answers a
JOIN responses r ON r.id = a.response_id
JOIN waves w ON w.id = r.wave_id
JOIN surveys s ON s.id = w.survey_id
JOIN customers c ON c.id = r.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = r.customer_id AND cs.run_id = :run
WHERE a.score IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""


def rebuild_driver_days(tz: ZoneInfo) -> int:
    """Replace driver_days (see models.DriverDay)."""
    sql = _DRIVERS.format(day=local_day_sql("r.answered_at", dialect()))
    return replace_facts("driver_days", sql, tz)


# Each analysed comment once per theme it mentions (NO_THEME when none) and once under
# ALL_COMMENTS.
_THEMES = """
INSERT INTO theme_days (day, wave_id, survey_id, template_key, language, abc_class, programme,
                        owner_id, theme_key, n, s, ss)
SELECT {day} AS day, r.wave_id, w.survey_id, s.template_key, r.language, cs.abc_class,
       cs.programme, c.owner_id, t.theme_key, COUNT(*), SUM(t.sentiment),
       SUM(t.sentiment * t.sentiment)
FROM (
  SELECT ca.response_id, ca.sentiment, COALESCE(ct.theme_key, '{none}') AS theme_key
  FROM comment_analyses ca LEFT JOIN comment_themes ct ON ct.response_id = ca.response_id
  UNION ALL
  SELECT response_id, sentiment, '{all}' FROM comment_analyses
) t
JOIN responses r ON r.id = t.response_id
JOIN waves w ON w.id = r.wave_id
JOIN surveys s ON s.id = w.survey_id
JOIN customers c ON c.id = r.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = r.customer_id AND cs.run_id = :run
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""


def rebuild_theme_days(tz: ZoneInfo) -> int:
    """Replace theme_days (see models.ThemeDay) from the stored comment analyses."""
    sql = _THEMES.format(
        day=local_day_sql("r.answered_at", dialect()), all=ALL_COMMENTS, none=NO_THEME
    )
    return replace_facts("theme_days", sql, tz)
