"""group_months: customer_months summed per month, NPS group and customer filters (see
models.GroupMonth), and scatter_points, the customers of the promoter, passive and
detractor groups one by one (models.ScatterPoint). The recent months are rebuilt with the
other dashboard facts every 15 minutes, every month when the monthly facts were rebuilt
(nightly) or on demand."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.types import Date

from feedback.extensions import db
from feedback.reporting.answers import local_day_sql

RECENT_MONTHS = 24  # an NPS answer older than this gives no band (as the view says)

_INSERT = """
INSERT INTO group_months (month, grp, abc_class, programme, owner_id, language, n, s_rev,
                          ss_rev, s_prior, ss_prior, s_change, ss_change, s_change_prior)
SELECT month, grp, abc_class, programme, owner_id, language, COUNT(*), SUM(rev),
       SUM(rev * rev), SUM(prior), SUM(prior * prior), SUM(rev - prior),
       SUM((rev - prior) * (rev - prior)), SUM((rev - prior) * prior)
FROM (
  SELECT f.month,
         CASE WHEN f.waves_12m > 0 AND f.answered_12m = 0 THEN 'non-responder'
              WHEN f.nps_answered_at IS NOT NULL AND {answered_day} >= {window_start}
                THEN CASE WHEN f.nps_score >= 9 THEN 'promoter'
                          WHEN f.nps_score >= 7 THEN 'passive' ELSE 'detractor' END
              ELSE 'not asked' END AS grp,
         cs.abc_class, cs.programme, c.owner_id, c.language,
         CAST(f.revenue_12m AS FLOAT) AS rev, CAST(f.revenue_prev_12m AS FLOAT) AS prior
  FROM customer_months f
  JOIN customers c ON c.id = f.customer_id
  LEFT JOIN customer_segments cs ON cs.customer_id = f.customer_id AND cs.run_id = :run
  WHERE f.month >= :since AND (f.revenue_12m <> 0 OR f.revenue_prev_12m <> 0)
) x
GROUP BY month, grp, abc_class, programme, owner_id, language
"""


# Each month in pick order: the view's sample reads the first few thousand of a month's rows
# by that index, and stored in that order they lie on a few dozen pages, not thousands.
_SCATTER = """
INSERT INTO scatter_points (month, customer_id, external_id, name, abc_class, programme, owner_id,
                            language, score, answered_on, rev, chg, pick)
SELECT f.month, f.customer_id, c.external_id, c.name, cs.abc_class, cs.programme, c.owner_id,
       c.language,
       f.nps_score, {answered_day}, CAST(f.revenue_12m AS FLOAT),
       CAST(f.revenue_12m AS FLOAT) - CAST(f.revenue_prev_12m AS FLOAT),
       (CAST(f.customer_id AS BIGINT) * 2654435761) % 4294967296 AS pick
FROM customer_months f
JOIN customers c ON c.id = f.customer_id
LEFT JOIN customer_segments cs ON cs.customer_id = f.customer_id AND cs.run_id = :run
WHERE f.month >= :since AND (f.revenue_12m <> 0 OR f.revenue_prev_12m <> 0)
  AND NOT (f.waves_12m > 0 AND f.answered_12m = 0)
  AND f.nps_answered_at IS NOT NULL AND {answered_day} >= {window_start}
ORDER BY f.month, pick
"""


def _window_start(dialect: str) -> str:
    """SQL: the first day of the month RECENT_MONTHS - 1 months before f.month."""
    back = RECENT_MONTHS - 1
    if dialect == "postgresql":
        return f"CAST(f.month - INTERVAL '{back} months' AS DATE)"
    return f"date(f.month, '-{back} months')"


def rebuild_group_months(tz: ZoneInfo, since: date | None = None) -> int:
    """Replace group_months and scatter_points from `since` (a month's first day; None:
    every month). Flushes; the caller commits. Returns group_months rows written."""
    session = db.session
    dialect = session.get_bind().dialect.name
    since = since or date(1900, 1, 1)
    run = session.scalar(text("SELECT id FROM segment_runs ORDER BY as_of DESC LIMIT 1"))
    values = {"run": run, "tz": tz.key, "since": since}
    parts = {"answered_day": local_day_sql("f.nps_answered_at", dialect),
             "window_start": _window_start(dialect)}  # fmt: skip
    for table, insert in (("scatter_points", _SCATTER), ("group_months", _INSERT)):
        session.execute(text(f"DELETE FROM {table} WHERE month >= :since")
                        .bindparams(bindparam("since", type_=Date())), values)  # fmt: skip
        written = session.execute(
            text(insert.format(**parts)).bindparams(bindparam("since", type_=Date())), values
        ).rowcount
    return written
