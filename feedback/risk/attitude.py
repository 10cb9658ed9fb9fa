"""What customers said and did not say, per customer as of several dates at once: the last
NPS answer and the one at least half a year before it, the trailing silent waves, and open
and breached cases. One statement per table covers every date (the fit date and the scoring
date share a pass), with window functions over one sort by customer and no self-joins.
Nothing at or after a date's end enters its figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from sqlalchemy import bindparam, text

from feedback.dbtypes import UTCDateTime

LOOKBACK_DAYS = 730  # answers older than two years say little about today
PREVIOUS_AFTER_DAYS = 180  # "before": an answer at least half a year before the last one


def _moment_days_sql(column: str, dialect: str) -> str:
    """A timestamp as days since 1970 (a float), so "half a year before" is arithmetic."""
    if dialect == "postgresql":
        return f"(EXTRACT(EPOCH FROM {column}) / 86400.0)"
    return f"(julianday({column}) - 2440587.5)"


def _answers_sql(count: int, dialect: str) -> str:
    aday = _moment_days_sql("r.answered_at", dialect)
    window = "OVER (PARTITION BY customer_id)"
    last = ", ".join(
        f"MAX(CASE WHEN r.answered_at < :u{i} AND r.answered_at >= :s{i} THEN {aday} END) "
        f"OVER (PARTITION BY r.customer_id) AS l{i}"
        for i in range(count)
    )
    previous = ", ".join(
        f"MAX(CASE WHEN aday <= l{i} - {PREVIOUS_AFTER_DAYS} AND answered_at >= :s{i} "
        f"THEN aday END) {window} AS p{i}"
        for i in range(count)
    )
    picked = ",\n  ".join(
        f"MAX(CASE WHEN aday = l{i} THEN score END), MAX(l{i}), "
        f"MAX(CASE WHEN aday = p{i} THEN score END), MAX(p{i})"
        for i in range(count)
    )
    return f"""
WITH a AS (
  SELECT r.customer_id, r.score, r.answered_at, {aday} AS aday, {last}
  FROM responses r JOIN waves w ON w.id = r.wave_id JOIN surveys s ON s.id = w.survey_id
  WHERE r.answered_at < :u_max AND r.answered_at >= :s_min AND r.score IS NOT NULL
    AND s.template_key IN :nps_templates
), b AS (
  SELECT a.*, {previous} FROM a
)
SELECT customer_id,
  {picked}
FROM b GROUP BY customer_id
"""


def _silence_sql(count: int) -> str:
    """Silent waves closed after the last answered one; opted-out and undelivered waves
    neither break nor extend the run."""
    last = ", ".join(
        f"MAX(CASE WHEN outcome = 'answered' AND closed_at < :u{i} THEN closed_at END) "
        f"OVER (PARTITION BY customer_id) AS a{i}"
        for i in range(count)
    )
    sums = ", ".join(
        f"SUM(CASE WHEN closed_at < :u{i} AND outcome = 'non_response' "
        f"AND (a{i} IS NULL OR closed_at > a{i}) THEN 1 ELSE 0 END)"
        for i in range(count)
    )
    return f"""
SELECT customer_id, {sums}
FROM (
  SELECT customer_id, outcome, closed_at, {last}
  FROM wave_outcomes WHERE closed_at < :u_max
) o
GROUP BY customer_id
"""


def _cases_sql(count: int) -> str:
    """Open cases from answers at each date, and those past their deadline (churn cases are
    left out: the score must not feed on itself)."""
    open_at = "created_at < :u{i} AND (closed_at IS NULL OR closed_at >= :u{i})"
    sums = ", ".join(
        f"SUM(CASE WHEN {open_at.format(i=i)} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {open_at.format(i=i)} AND due_at < :u{i} THEN 1 ELSE 0 END)"
        for i in range(count)
    )
    return f"""
SELECT customer_id, {sums}
FROM cases
WHERE kind = 'answer' AND created_at < :u_max AND (closed_at IS NULL OR closed_at >= :u_min)
GROUP BY customer_id
"""


def _lookup(customer_ids: np.ndarray, rows, columns: Sequence[int]) -> list[np.ndarray]:
    """The given result columns as arrays aligned on `customer_ids` (sorted; NaN where a
    customer has no row), matched with one binary search instead of a loop per row."""
    values = [np.full(len(customer_ids), np.nan) for _ in columns]
    if not rows or not len(customer_ids):
        return values
    table = np.array(rows, dtype=float)
    ids = table[:, 0].astype(np.int64)
    at = np.minimum(np.searchsorted(customer_ids, ids), len(customer_ids) - 1)
    found = customer_ids[at] == ids
    for k, column in enumerate(columns):
        values[k][at[found]] = table[found, column]
    return values


def attitude_rows(connection, until: Sequence, nps_templates: Sequence[str]) -> tuple:
    """The three statements' rows (answers, silence, cases) for the dates whose first
    instants after them are `until`. Takes a connection, so it can run on one of its own
    beside the transaction scan (features.snapshots)."""
    count = len(until)
    params: dict = {"u_max": max(until), "u_min": min(until)}
    for i, moment in enumerate(until):
        params[f"u{i}"], params[f"s{i}"] = moment, moment - timedelta(days=LOOKBACK_DAYS)
    params["s_min"] = min(params[f"s{i}"] for i in range(count))
    typed = [bindparam(name, type_=UTCDateTime()) for name in params]

    def run(sql: str, **extra):
        stmt = text(sql).bindparams(*(p for p in typed if f":{p.key}" in sql))
        if extra:
            stmt = stmt.bindparams(bindparam("nps_templates", expanding=True))
        result = connection.execute(stmt, {**params, **extra})
        return result.cursor.fetchall() if result.cursor is not None else []

    answers = run(_answers_sql(count, connection.dialect.name),
                  nps_templates=list(nps_templates) or [""])  # fmt: skip
    return answers, run(_silence_sql(count)), run(_cases_sql(count))


def add_attitude(snapshots, rows: tuple) -> None:
    """Add score, answered_day, prev_score, prev_day, silence, open_cases and breached_cases
    to each snapshot's raw figures, from attitude_rows for the same dates in order."""
    answers, silence, cases = rows
    for i, snapshot in enumerate(snapshots):
        ids = snapshot.customer_ids
        score, answered_day, prev, prev_day = _lookup(ids, answers, range(1 + 4 * i, 5 + 4 * i))
        (silent,) = _lookup(ids, silence, [1 + i])
        open_cases, breached = _lookup(ids, cases, [1 + 2 * i, 2 + 2 * i])
        snapshot.raw |= {
            "score": score, "answered_day": answered_day, "prev_score": prev,
            "prev_day": prev_day, "silence": np.nan_to_num(silent),
            "open_cases": np.nan_to_num(open_cases), "breached_cases": np.nan_to_num(breached),
        }  # fmt: skip
