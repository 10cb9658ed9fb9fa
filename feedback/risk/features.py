"""Churn features per customer as of a date, computed set-based in SQL.

One scan of the transactions computes the order aggregates for every requested as-of date
at once (the model is fitted on an earlier date and applied at the later one, so both come
from the same pass); answers, wave outcomes and cases are one statement each per date.
Nothing dated after an as-of date enters its features.

Orders are transaction rows with a positive amount, credits those with a negative one, in
the base currency at the stored rates. A customer is *active* at a date when it ordered in
the 365 days up to it; only active customers are scored (the rest are already gone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import Date, bindparam, text

from feedback.dbtypes import UTCDateTime
from feedback.extensions import db

EPOCH = date(1970, 1, 1)
MONTH_DAYS = 30.4375
# (name, what it measures, single-signal group used by the backtest)
# fmt: off
FEATURES = (
    ("recency", "log of days since the last order over the usual (or last year's) gap", "behaviour"),  # noqa: E501
    ("orders_season", "orders in the last 90 days against the same 90 a year earlier", "behaviour"),  # noqa: E501
    ("revenue_year", "revenue in the last 365 days against the 365 before", "behaviour"),
    ("trend", "slope of monthly revenue over 12 months less last year's, per month", "behaviour"),  # noqa: E501
    ("credit_share", "credits as a share of orders in the last 365 days", "behaviour"),
    ("detractor", "the last answer scored 0-6", "nps"),
    ("promoter", "the last answer scored 9-10", "nps"),
    ("score_drop", "drop from the score half a year or more before the last one, /10", "nps"),
    ("silence", "consecutive unanswered waves, up to 4", "non_response"),
    ("open_cases", "open cases from answers, up to 3", "cases"),
    ("breached_cases", "open cases past their deadline, up to 3", "cases"),
)  # noqa: E501
# fmt: on
FEATURE_NAMES = tuple(name for name, _, _ in FEATURES)
# Where a feature's value is a warning sign in itself; only there can it be named as a
# reason (a model may weigh "not a promoter", but that is nothing to act on).
WARNING_FROM = {
    "recency": ("above", 0.405),  # silent half again as long as usual
    "orders_season": ("below", -0.25),
    "revenue_year": ("below", -0.2),
    "trend": ("below", -0.03),
    "credit_share": ("above", 0.1),
    "detractor": ("above", 0.5),
    "score_drop": ("above", 0.15),
    "silence": ("above", 0.5),
    "open_cases": ("above", 0.5),
    "breached_cases": ("above", 0.5),
}
BEHAVIOUR = tuple(name for name, _, group in FEATURES if group == "behaviour")


def day_number(day: date) -> int:
    return (day - EPOCH).days


def end_of(day: date) -> datetime:
    """The first instant after `day` (UTC): timestamps before it belong to the day or earlier."""
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _day_sql(column: str) -> str:
    if db.session.get_bind().dialect.name == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _moment_days_sql(column: str) -> str:
    if db.session.get_bind().dialect.name == "postgresql":
        return f"(EXTRACT(EPOCH FROM {column}) / 86400.0)"
    return f"(julianday({column}) - 2440587.5)"


def _order_aggregates(i: int) -> list[str]:
    """Conditional aggregates for as-of date number i (bound as :d{i}), per customer and
    currency; every sum is linear, so converting the currency afterwards is exact."""
    d = f":d{i}"
    pos, neg = "t.amount > 0", "t.amount < 0"

    def within(lo: int, hi: int = 0) -> str:  # (d - lo, d - hi]
        return f"t.day > {d} - {lo} AND t.day <= {d} - {hi}"

    # Month index 0..11 (oldest..latest) of the last 365 days and of the 365 before, for the
    # slope of monthly revenue against the same months a year earlier (seasons cancel out).
    month = f"(11 - (({d} - t.day) * 10000 / 304375))"
    month_ly = f"(11 - (({d} - 365 - t.day) * 10000 / 304375))"
    return [
        f"MAX(CASE WHEN {pos} AND t.day <= {d} THEN t.day END) AS last{i}",
        f"MIN(CASE WHEN {pos} AND {within(730)} THEN t.day END) AS first{i}",
        f"SUM(CASE WHEN {pos} AND {within(730)} THEN 1 ELSE 0 END) AS n730_{i}",
        f"MAX(CASE WHEN {pos} AND t.day <= {d} - 365 THEN t.day END) AS last_ly{i}",
        f"SUM(CASE WHEN {pos} AND {within(90)} THEN 1 ELSE 0 END) AS o90_{i}",
        f"SUM(CASE WHEN {pos} AND {within(455, 365)} THEN 1 ELSE 0 END) AS o90ly{i}",
        f"SUM(CASE WHEN {pos} AND {within(365)} THEN t.amount ELSE 0 END) AS r365_{i}",
        f"SUM(CASE WHEN {pos} AND {within(730, 365)} THEN t.amount ELSE 0 END) AS rprev{i}",
        f"SUM(CASE WHEN {neg} AND {within(365)} THEN -t.amount ELSE 0 END) AS cr365_{i}",
        f"SUM(CASE WHEN {within(365)} THEN ({month} * 2 - 11) * t.amount "
        f"WHEN {within(730, 365)} THEN (11 - {month_ly} * 2) * t.amount ELSE 0 END) AS slope{i}",
    ]


_KEEP = ("last", "first", "n730_", "last_ly", "o90_", "o90ly")  # not money: no conversion
_MONEY = ("r365_", "rprev", "cr365_", "slope")


def _orders_sql(count: int) -> str:
    aggregates = ",\n  ".join(a for i in range(count) for a in _order_aggregates(i))
    keep = [f"MAX({k}{i}) AS {k}{i}" if k.startswith("last") else
            f"MIN({k}{i}) AS {k}{i}" if k == "first" else f"SUM({k}{i}) AS {k}{i}"
            for i in range(count) for k in _KEEP]  # fmt: skip
    money = [
        f"SUM({k}{i} * CASE WHEN p.currency = :base THEN 1 ELSE COALESCE(r.rate, 0) END) AS {k}{i}"
        for i in range(count)
        for k in _MONEY
    ]
    return f"""
WITH t AS (
  SELECT customer_id, currency, amount, {_day_sql("date")} AS day FROM transactions
  WHERE date > :scan_start AND date <= :scan_end
), p AS (
  SELECT t.customer_id, t.currency,
  {aggregates}
  FROM t GROUP BY t.customer_id, t.currency
)
SELECT p.customer_id, {", ".join(keep + money)}
FROM p LEFT JOIN currency_rates r ON r.currency = p.currency
GROUP BY p.customer_id
"""


# {aday}: the answer's moment in days since 1970, so "half a year before" is plain arithmetic.
_ANSWERS_SQL = """
WITH a AS (
  SELECT r.customer_id, r.score, {aday} AS aday,
         ROW_NUMBER() OVER (PARTITION BY r.customer_id ORDER BY r.answered_at DESC, r.id DESC) AS k
  FROM responses r JOIN waves w ON w.id = r.wave_id JOIN surveys s ON s.id = w.survey_id
  WHERE r.answered_at < :until AND r.answered_at >= :since AND r.score IS NOT NULL
    AND s.template_key IN :nps_templates
), last AS (SELECT customer_id, score, aday FROM a WHERE k = 1),
prev AS (
  SELECT a.customer_id, a.score, a.aday,
         ROW_NUMBER() OVER (PARTITION BY a.customer_id ORDER BY a.aday DESC) AS k
  FROM a JOIN last ON last.customer_id = a.customer_id
  WHERE a.aday <= last.aday - 180
)
SELECT last.customer_id, last.score, last.aday, prev.score, prev.aday
FROM last LEFT JOIN prev ON prev.customer_id = last.customer_id AND prev.k = 1
"""

_SILENCE_SQL = """
WITH o AS (SELECT customer_id, outcome, closed_at FROM wave_outcomes WHERE closed_at < :until),
la AS (SELECT customer_id, MAX(closed_at) AS at FROM o WHERE outcome = 'answered'
       GROUP BY customer_id)
SELECT o.customer_id, COUNT(*) FROM o LEFT JOIN la ON la.customer_id = o.customer_id
WHERE o.outcome = 'non_response' AND (la.at IS NULL OR o.closed_at > la.at)
GROUP BY o.customer_id
"""

# Cases opened from answers (not churn cases: the score must not feed on itself).
_CASES_SQL = """
SELECT customer_id, COUNT(*), SUM(CASE WHEN due_at < :until THEN 1 ELSE 0 END)
FROM cases
WHERE kind = 'answer' AND created_at < :until AND (closed_at IS NULL OR closed_at >= :until)
GROUP BY customer_id
"""


@dataclass
class Snapshot:
    """Raw per-customer figures as of one date, as arrays aligned on `customer_ids` (active
    customers only, sorted)."""

    as_of: date
    customer_ids: np.ndarray
    raw: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.customer_ids)


def snapshots(
    as_of_dates: Sequence[date], *, base_currency: str, nps_templates: Sequence[str]
) -> list[Snapshot]:
    """Raw figures for each date, from one transaction scan plus three small statements per
    date. Customers appear in a date's snapshot when active then."""
    dates = list(as_of_dates)
    params = {f"d{i}": day_number(d) for i, d in enumerate(dates)}
    params |= {"base": base_currency, "scan_end": max(dates),
               "scan_start": min(dates) - timedelta(days=730)}  # fmt: skip
    stmt = text(_orders_sql(len(dates))).bindparams(
        bindparam("scan_start", type_=Date), bindparam("scan_end", type_=Date)
    )
    result = db.session.execute(stmt, params)
    columns = list(result.keys())
    rows = result.fetchall()
    table = np.array(rows, dtype=float).reshape(len(rows), len(columns))
    out = []
    for i, as_of in enumerate(dates):
        d = day_number(as_of)
        col = {name: table[:, j] for j, name in enumerate(columns)}
        r365 = np.nan_to_num(col[f"r365_{i}"])
        active = r365 > 0
        ids = col["customer_id"][active].astype(np.int64)
        raw = {k: col[f"{k}{i}"][active] for k in _KEEP + _MONEY}
        raw["days_since"] = d - raw["last"]
        raw["days_since_ly"] = (d - 365) - raw["last_ly"]  # NaN: no order a year earlier
        out.append(Snapshot(as_of, ids, {k.rstrip("_"): v for k, v in raw.items()}))
        _add_attitude(out[-1], nps_templates)
    return out


def _lookup(snapshot: Snapshot, rows, width: int) -> list[np.ndarray]:
    index = {int(c): j for j, c in enumerate(snapshot.customer_ids)}
    values = [np.full(len(snapshot), np.nan) for _ in range(width)]
    for row in rows:
        j = index.get(int(row[0]))
        if j is not None:
            for k in range(width):
                v = row[k + 1]
                values[k][j] = np.nan if v is None else float(v)
    return values


def _add_attitude(snapshot: Snapshot, nps_templates: Sequence[str]) -> None:
    until = end_of(snapshot.as_of)
    typed = bindparam("until", type_=UTCDateTime())
    answers = text(_ANSWERS_SQL.format(aday=_moment_days_sql("r.answered_at"))).bindparams(
        typed, bindparam("since", type_=UTCDateTime()), bindparam("nps_templates", expanding=True)
    )
    # The previous score: the latest at least half a year before the last one.
    rows = db.session.execute(
        answers,
        {"until": until, "since": until - timedelta(days=730),
         "nps_templates": list(nps_templates) or [""]},
    ).fetchall()  # fmt: skip
    score, answered_day, prev, prev_day = _lookup(snapshot, rows, 4)
    silence = _lookup(snapshot, db.session.execute(
        text(_SILENCE_SQL).bindparams(typed), {"until": until}).fetchall(), 1)[0]  # fmt: skip
    open_cases, breached = _lookup(snapshot, db.session.execute(
        text(_CASES_SQL).bindparams(typed), {"until": until}).fetchall(), 2)  # fmt: skip
    snapshot.raw |= {
        "score": score, "answered_day": answered_day, "prev_score": prev, "prev_day": prev_day,
        "silence": np.nan_to_num(silence), "open_cases": np.nan_to_num(open_cases),
        "breached_cases": np.nan_to_num(breached),
    }  # fmt: skip


def feature_matrix(snapshot: Snapshot) -> np.ndarray:
    """The model's inputs (len(snapshot) x len(FEATURES)), bounded so no outlier dominates."""
    r = snapshot.raw
    n730 = r["n730"]
    span = r["last"] - r["first"]
    usual_gap = np.where(n730 >= 2, span / np.maximum(n730 - 1, 1), 365.0)
    # Seasonal customers: as long a pause at this time last year is not a warning sign.
    expected = np.fmax(usual_gap, np.where(r["days_since_ly"] <= 365, r["days_since_ly"], 0))
    recency = np.log((1 + r["days_since"]) / (1 + expected))
    o90, o90ly = r["o90"], r["o90ly"]
    season = (o90 - o90ly) / np.maximum(np.maximum(o90, o90ly), 1)
    r365, rprev = r["r365"], r["rprev"]
    revenue_year = np.where(rprev > 0, (r365 - rprev) / np.maximum(np.maximum(r365, rprev), 1), 0)
    monthly = np.maximum(r365 / 12, 1e-9)
    trend = (r["slope"] / 2 / 143) / monthly  # least-squares slope per month over the mean
    credit = r["cr365"] / np.maximum(r365, 1e-9)
    score, prev = r["score"], r["prev_score"]
    answered = ~np.isnan(score)
    drop = np.where(answered & ~np.isnan(prev), np.maximum(prev - score, 0) / 10, 0)
    columns = [
        np.clip(recency, -1.5, 4),
        np.clip(season, -1, 1),
        np.clip(revenue_year, -1, 1),
        np.clip(trend, -0.3, 0.3),
        np.clip(credit, 0, 1),
        (answered & (score <= 6)).astype(float),
        (answered & (score >= 9)).astype(float),
        np.nan_to_num(drop),
        np.minimum(r["silence"], 4),
        np.minimum(r["open_cases"], 3),
        np.minimum(r["breached_cases"], 3),
    ]
    return np.column_stack(columns) if len(snapshot) else np.zeros((0, len(FEATURES)))


def usual_gap_days(snapshot: Snapshot) -> np.ndarray:
    r = snapshot.raw
    return np.where(r["n730"] >= 2, (r["last"] - r["first"]) / np.maximum(r["n730"] - 1, 1), np.nan)
