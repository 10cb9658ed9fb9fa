"""Non-response: how each customer met each closed wave, and what that says per customer.

`record_outcomes` writes one `wave_outcomes` row per (closed wave, customer) in two
set-based statements when a wave closes (or history is imported). The outcome is fixed
then, so a contact who opts out or bounces later does not rewrite the past, and churn
features as of an earlier date read what was known on that date.

Rules: any answer from any contact makes the wave `answered`; otherwise a delivered
invitation (sent and not bounced: SMTP gives no delivery receipts) to a contact still
active makes it a `non_response`; one that reached only contacts who have opted out is
`opted_out` (counted apart); bounced, failed or never-sent invitations are `undelivered`,
which is not silence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, bindparam, text

from feedback.dbtypes import UTCDateTime, utcnow
from feedback.extensions import db

_DELIVERED = "i.state IN ('sent', 'delivered', 'answered')"

_OUTCOMES_SELECT = f"""
SELECT i.wave_id, i.customer_id,
       CASE
         WHEN COUNT(r.id) > 0 THEN 'answered'
         WHEN SUM(CASE WHEN {_DELIVERED} AND c.status = 'active' THEN 1 ELSE 0 END) > 0
           THEN 'non_response'
         WHEN SUM(CASE WHEN {_DELIVERED} AND c.status = 'opted_out' THEN 1 ELSE 0 END) > 0
           THEN 'opted_out'
         ELSE 'undelivered'
       END,
       COUNT(DISTINCT i.id), w.closed_at, MIN(r.answered_at)
FROM waves w
JOIN invitations i ON i.wave_id = w.id
JOIN contacts c ON c.id = i.contact_id
LEFT JOIN responses r ON r.invitation_id = i.id
WHERE {{where}}
GROUP BY i.wave_id, i.customer_id, w.closed_at
"""

_NOW = bindparam("now", type_=UTCDateTime())
_UNTIL = bindparam("until", type_=UTCDateTime())

_INSERT = (
    "INSERT INTO wave_outcomes (wave_id, customer_id, outcome, invited, closed_at, answered_at) "
)


def record_outcomes(wave_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    """Record outcomes for closed waves not yet recorded, or re-record the given waves
    (an imported wave whose rows changed). Flushes; the caller commits. Returns rows written."""
    session = db.session
    now = now or utcnow()
    if wave_ids is not None:
        ids = sorted(set(wave_ids))
        if not ids:
            return 0
        param = bindparam("ids", ids, expanding=True)
        session.execute(text("DELETE FROM wave_outcomes WHERE wave_id IN :ids").bindparams(param))
        where = "w.id IN :ids AND w.status = 'closed'"
        stmt = text(_INSERT + _OUTCOMES_SELECT.format(where=where)).bindparams(param)
        written = session.execute(stmt).rowcount
        mark = text(
            "UPDATE waves SET outcomes_recorded_at = :now WHERE id IN :ids AND status = 'closed'"
        ).bindparams(param, _NOW)
        session.execute(mark, {"now": now})
        return written
    # Mark first (the same statement snapshot on both databases would differ): pick the
    # waves by a timestamp that only this call sets, then fill them.
    marked = session.execute(
        text(
            "UPDATE waves SET outcomes_recorded_at = :now "
            "WHERE status = 'closed' AND outcomes_recorded_at IS NULL"
        ).bindparams(_NOW),
        {"now": now},
    ).rowcount
    if not marked:
        return 0
    where = "w.outcomes_recorded_at = :now AND w.status = 'closed'"
    stmt = text(_INSERT + _OUTCOMES_SELECT.format(where=where)).bindparams(_NOW)
    return session.execute(stmt, {"now": now}).rowcount


@dataclass(frozen=True)
class ResponseStats:
    waves_invited: int = 0  # waves with an invitation that counts (answered or silent)
    waves_answered: int = 0
    consecutive_non_responses: int = 0  # trailing silent waves since the last answer
    opted_out_waves: int = 0
    last_answered_at: datetime | None = None
    last_score: int | None = None

    def as_dict(self) -> dict:
        return {
            "waves_invited": self.waves_invited,
            "waves_answered": self.waves_answered,
            "consecutive_non_responses": self.consecutive_non_responses,
            "last_answered_at": _iso(self.last_answered_at),
            "last_score": self.last_score,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# Trailing silence in one window pass: silent waves closed after the last answered
# one. Opted-out and undelivered waves neither break nor extend the run.
_STATS_SQL = """
SELECT customer_id,
       SUM(CASE WHEN outcome IN ('answered', 'non_response') THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'non_response'
                 AND (last_answer IS NULL OR closed_at > last_answer) THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'opted_out' THEN 1 ELSE 0 END)
FROM (
  SELECT customer_id, outcome, closed_at,
         MAX(CASE WHEN outcome = 'answered' THEN closed_at END)
           OVER (PARTITION BY customer_id) AS last_answer
  FROM wave_outcomes WHERE closed_at < :until {customers}
) o
GROUP BY customer_id
"""

_LAST_SCORE_SQL = """
SELECT r.customer_id, r.answered_at, r.score FROM responses r
JOIN (SELECT customer_id, MAX(answered_at) AS at FROM responses
      WHERE answered_at < :until AND score IS NOT NULL {customers}
      GROUP BY customer_id) l
  ON l.customer_id = r.customer_id AND l.at = r.answered_at
WHERE r.score IS NOT NULL
"""


def response_stats(
    customer_ids: Iterable[int] | None = None, *, as_of: date | None = None
) -> dict[int, ResponseStats]:
    """Per-customer answer record from waves closed (and answers given) before the end of
    `as_of` (default: everything). Customers never invited are absent: use ResponseStats()."""
    end = (as_of + timedelta(days=1)) if as_of else date(9999, 1, 1)
    until = datetime.combine(end, time(), tzinfo=UTC)
    params: dict = {"until": until}
    customers = ""
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        if not ids:
            return {}
        customers = "AND customer_id IN :ids"
        params["ids"] = ids

    def run(sql: str, **columns):
        stmt = text(sql.format(customers=customers)).bindparams(_UNTIL)
        if customers:
            stmt = stmt.bindparams(bindparam("ids", expanding=True))
        if columns:
            stmt = stmt.columns(**columns)
        return db.session.execute(stmt, params)

    counts = {row[0]: row[1:] for row in run(_STATS_SQL)}
    last = {}
    rows = run(_LAST_SCORE_SQL, customer_id=Integer(), answered_at=UTCDateTime(), score=Integer())
    for customer_id, answered_at, score in rows:
        last[customer_id] = (answered_at, score)  # ties on the same instant: any one
    stats = {}
    for customer_id in counts.keys() | last.keys():
        invited, answered, silent, opted_out = counts.get(customer_id, (0, 0, 0, 0))
        answered_at, score = last.get(customer_id, (None, None))
        stats[customer_id] = ResponseStats(
            int(invited or 0),
            int(answered or 0),
            int(silent or 0),
            int(opted_out or 0),
            answered_at,
            score,
        )
    return stats
