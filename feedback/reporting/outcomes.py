"""predict_months and risk_months: customer_months summed for the views "Does NPS predict
behaviour here?" and "Revenue at risk" (see models.PredictMonth and models.RiskMonth), so a
click sums a few thousand rows instead of joining 100,000 customers' facts.

Kept with group_months by feedback.reporting.facts (the `refresh_reporting` job, every 15
minutes, and `feedback reporting facts|rebuild|refresh`): from the previous month on, every
month after the nightly rebuild of customer_months. An anchor month's outcomes come from the
facts 6 and 12 months later, so predict_months also rebuilds the anchors 6 and 12 months
before those months. A new churn run (weekly, or dated back by `feedback churn recompute`)
is summed at the next build, with every month from its own on; until then the view shows
the newest run summed, so it lags a new run by one job interval at most. Class, programme,
owner and language are the customer's at the build: older months take a change of them
at the nightly rebuild."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.types import Date

from feedback.extensions import db
from feedback.reporting.answers import local_day_sql
from feedback.reporting.build import settings_for_big_statements
from feedback.reporting.models import CustomerMonth, ReportingBuild
from feedback.risk import HIGH_RISK
from feedback.risk.models import ChurnRun

HORIZONS = (6, 12)  # months of outcome after the anchor

_BAND = """CASE WHEN f.nps_score IS NULL THEN 'none' WHEN f.nps_score >= 9 THEN 'promoter'
                WHEN f.nps_score >= 7 THEN 'passive' ELSE 'detractor' END"""

_HORIZON_SUMS = """COUNT(rev_{h}), SUM(gone_{h}), COALESCE(SUM(rev_{h} - rev), 0),
       COALESCE(SUM((rev_{h} - rev) * (rev_{h} - rev)), 0)"""

_HORIZON_FACTS = """CAST(f{h}.revenue_12m AS FLOAT) AS rev_{h},
         CASE WHEN f{h}.customer_id IS NOT NULL
               AND (f{h}.last_order_on IS NULL OR f{h}.last_order_on < {next_month})
              THEN 1 ELSE 0 END AS gone_{h}"""

_HORIZON_JOIN = """LEFT JOIN customer_months f{h} ON f{h}.customer_id = f.customer_id
       AND f{h}.month = {later} AND f{h}.month IN :later_{h}"""

# The group, first match wins: the newest NPS answer if given in the 12 months up to M, a
# non-responder, the newest answer if 13-24 months old, not asked. Active at M: revenue in
# the 12 months up to M, or an order within 365 days of M's last day.
_PREDICT = """
INSERT INTO predict_months (month, grp, abc_class, programme, owner_id, language, n, s_rev,
                            n_6, churned_6, s_change_6, ss_change_6,
                            n_12, churned_12, s_change_12, ss_change_12)
SELECT month, grp, abc_class, programme, owner_id, language, COUNT(*), SUM(rev),
       {sums}
FROM (
  SELECT f.month,
         CASE WHEN f.nps_answered_at IS NOT NULL AND {answered_day} >= {back_11} THEN {band}
              WHEN f.waves_12m > 0 AND f.answered_12m = 0 THEN 'non_responder'
              WHEN f.nps_answered_at IS NOT NULL AND {answered_day} >= {back_23} THEN {band}
              ELSE 'not_asked' END AS grp,
         cs.abc_class, cs.programme, c.owner_id, c.language,
         CAST(f.revenue_12m AS FLOAT) AS rev,
         {facts}
  FROM customer_months f
  JOIN customers c ON c.id = f.customer_id
  LEFT JOIN customer_segments cs ON cs.customer_id = f.customer_id AND cs.run_id = :run
  {joins}
  WHERE f.month IN :anchors AND (f.revenue_12m > 0 OR f.last_order_on > {active_edge})
) x
GROUP BY month, grp, abc_class, programme, owner_id, language
"""

# Each month with the churn runs a day of it can see: the newest run before the month
# began (or none) and every run dated within it. Customers as in group_months (bought in
# the 24 months up to the month); a detractor as there (not silent in the last 12 months'
# waves, newest NPS answer within 24 months a 0-6).
_RISK = """
WITH months AS (SELECT DISTINCT month FROM customer_months WHERE month >= :since),
pairs AS (
  SELECT m.month, r.id AS run_id, r.as_of
  FROM months m JOIN churn_runs r ON r.as_of >= m.month AND r.as_of < {next_month_m}
  UNION ALL
  SELECT m.month, r.id, r.as_of
  FROM months m LEFT JOIN churn_runs r
    ON r.as_of = (SELECT MAX(b.as_of) FROM churn_runs b WHERE b.as_of < m.month)
)
INSERT INTO risk_months (month, run_id, run_as_of, kind, abc_class, programme, owner_id,
                         language, n, s_rev, ss_rev, scored, s_loss)
SELECT month, run_id, as_of, kind, abc_class, programme, owner_id, language, COUNT(*),
       SUM(rev), SUM(rev * rev), COUNT(risk),
       COALESCE(SUM(risk * rev) / 100.0, 0)
FROM (
  SELECT p.month, p.run_id, p.as_of, s.risk,
         CASE WHEN s.risk >= :high AND x.detractor = 1 THEN 'both'
              WHEN s.risk >= :high THEN 'high risk only'
              WHEN x.detractor = 1 THEN 'detractor only' ELSE 'none' END AS kind,
         x.abc_class, x.programme, x.owner_id, x.language, x.rev
  FROM (
    SELECT f.month, f.customer_id, cs.abc_class, cs.programme, c.owner_id, c.language,
           CAST(f.revenue_12m AS FLOAT) AS rev,
           CASE WHEN f.waves_12m > 0 AND f.answered_12m = 0 THEN 0
                WHEN f.nps_answered_at IS NOT NULL AND {answered_day} >= {back_23}
                     AND f.nps_score < 7 THEN 1
                ELSE 0 END AS detractor
    FROM customer_months f
    JOIN customers c ON c.id = f.customer_id
    LEFT JOIN customer_segments cs ON cs.customer_id = f.customer_id AND cs.run_id = :run
    WHERE f.month >= :since AND (f.revenue_12m <> 0 OR f.revenue_prev_12m <> 0)
  ) x
  JOIN pairs p ON p.month = x.month
  LEFT JOIN churn_scores s ON s.run_id = p.run_id AND s.customer_id = x.customer_id
) y
GROUP BY month, run_id, as_of, kind, abc_class, programme, owner_id, language
"""


def _shift(column: str, dialect: str, *steps: str) -> str:
    """SQL: the date `column` moved by each of `steps` ('+6 months', '-366 days') in turn."""
    if dialect == "postgresql":
        moved = " ".join(f"{s[0]} INTERVAL '{s[1:]}'" for s in steps)
        return f"CAST({column} {moved} AS DATE)"
    return f"date({column}, {', '.join(repr(s) for s in steps)})"


def _key(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month(key: int) -> date:
    return date(key // 12, key % 12 + 1, 1)


def _run(statement: str, values: dict, since: date, anchors: list[date] | None = None) -> int:
    """Delete the table's months from `since` on (or the `anchors`) and insert them anew."""
    table = statement.split("INSERT INTO ", 1)[1].split(" ", 1)[0]
    which = "month >= :since" if anchors is None else "month IN :anchors"
    values = values | {"since": since, "anchors": anchors}
    db.session.execute(_typed(f"DELETE FROM {table} WHERE {which}"), values)
    return db.session.execute(_typed(statement), values).rowcount


def _typed(sql: str):
    """text(sql) with :since a date and :anchors, :later_6 and :later_12 lists of dates,
    where it uses them."""
    params = [bindparam("since", type_=Date())] if ":since" in sql else []
    params += [
        bindparam(name, type_=Date(), expanding=True)
        for name in ("anchors", *(f"later_{h}" for h in HORIZONS))
        if f":{name}" in sql
    ]
    return text(sql).bindparams(*params)


def _common(tz: ZoneInfo) -> tuple[str, dict, dict]:
    session = db.session
    dialect = session.get_bind().dialect.name
    run = session.scalar(text("SELECT id FROM segment_runs ORDER BY as_of DESC LIMIT 1"))
    parts = {
        "answered_day": local_day_sql("f.nps_answered_at", dialect),
        "back_11": _shift("f.month", dialect, "-11 months"),
        "back_23": _shift("f.month", dialect, "-23 months"),
    }
    return dialect, parts, {"run": run, "tz": tz.key}


def rebuild_predict_months(tz: ZoneInfo, since: date | None = None) -> int:
    """Replace predict_months for the anchor months whose facts at M, M + 6 or M + 12 are
    of `since` (a month's first day; None: every month) or later. Flushes; the caller
    commits. Returns rows written."""
    dialect, parts, values = _common(tz)
    next_month = _shift("f.month", dialect, "+1 month")
    parts |= {
        "band": _BAND,
        "active_edge": _shift("f.month", dialect, "+1 month", "-366 days"),
        "sums": ",\n       ".join(_HORIZON_SUMS.format(h=h) for h in HORIZONS),
        "facts": ",\n         ".join(
            _HORIZON_FACTS.format(h=h, next_month=next_month) for h in HORIZONS
        ),
        "joins": "\n  ".join(
            _HORIZON_JOIN.format(h=h, later=_shift("f.month", dialect, f"+{h} months"))
            for h in HORIZONS
        ),
    }
    first, anchors = _anchors(since)
    # The outcome months, so that the joins read those months' facts only.
    later = {f"later_{h}": [_month(_key(a) + h) for a in anchors] for h in HORIZONS}
    settings_for_big_statements()
    return _run(_PREDICT.format(**parts), values | later, first, anchors)


def _anchors(since: date | None) -> tuple[date, list[date]]:
    """(the first, all) anchor months whose facts at M, M + 6 or M + 12 lie in the months
    from `since` to the newest built: 6 for a refresh of two months, not 14."""
    through = db.session.scalar(select(func.max(CustomerMonth.month)))
    if isinstance(through, str):  # SQLite hands back text from an aggregate
        through = date.fromisoformat(through)
    if through is None:
        return date(1900, 1, 1), []
    since = since or db.session.scalar(select(func.min(CustomerMonth.month)))
    if isinstance(since, str):
        since = date.fromisoformat(since)
    changed = range(_key(since), _key(through) + 1)
    keys = sorted({key - h for key in changed for h in (0, *HORIZONS)})
    return _month(keys[0]), [_month(key) for key in keys]


def rebuild_risk_months(tz: ZoneInfo, since: date | None = None) -> int:
    """Replace risk_months from `since` (a month's first day; None: every month), and from
    the month of any churn run computed since the last build (a run can be dated back).
    Flushes; the caller commits. Returns rows written."""
    dialect, parts, values = _common(tz)
    parts["next_month_m"] = _shift("m.month", dialect, "+1 month")
    first = _with_new_runs(since) if since else date(1900, 1, 1)
    settings_for_big_statements()
    return _run(_RISK.format(**parts), values | {"high": HIGH_RISK}, first)


def _with_new_runs(since: date) -> date:
    """`since`, or the month of the earliest churn run computed up to a day before the last
    build of risk_months or later (a day: a run committed while that build ran)."""
    built = db.session.get(ReportingBuild, "risk_months")
    if built is None:
        return date(1900, 1, 1)
    newest = db.session.scalar(select(func.min(ChurnRun.as_of)).where(
        ChurnRun.computed_at > built.refreshed_at - timedelta(days=1)))  # fmt: skip
    if isinstance(newest, str):  # SQLite hands back text from an aggregate
        newest = date.fromisoformat(newest)
    return min(since, newest.replace(day=1)) if newest else since
