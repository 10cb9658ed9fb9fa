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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import Date, bindparam, text

from feedback.extensions import db
from feedback.risk.attitude import add_attitude, attitude_rows

EPOCH = date(1970, 1, 1)
MONTH_DAYS = 30.4375
# (name, what it measures, single-signal group used by the backtest)
# fmt: off
FEATURES = (
    ("recency", "log of days since the last order over the usual (or last year's) gap", "behaviour"),  # noqa: E501
    ("orders_season", "orders in the last 90 days against the same 90 a year earlier", "behaviour"),  # noqa: E501
    ("revenue_year", "revenue in the last 365 days against the 365 before", "behaviour"),
    ("trend", "last half year against the one before, less the same change a year earlier", "behaviour"),  # noqa: E501
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
    "trend": ("below", -0.2),
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


def _float(column: str) -> str:
    """Features need no exact cents: float sums are several times faster than NUMERIC ones."""
    if db.session.get_bind().dialect.name == "postgresql":
        return f"CAST({column} AS DOUBLE PRECISION)"
    return f"CAST({column} AS REAL)"


# Periods before an as-of date, in days ago: [0, 90) is the last quarter, [0, 365) the last
# year, [365, 455) the same quarter a year earlier, [0, 182) and [182, 365) the two halves of
# the last year, [365, 547) and [547, 730) those of the year before; 6 is older, 9 after.
PERIOD_STARTS = (0, 90, 182, 365, 455, 547, 730)


def _period(i: int, sample_every: int = 1) -> str:
    """The row's period code before date i, by comparing its date with bound cut-off dates
    (:d{i}_{k} is the day `PERIOD_STARTS[k]` days before): no arithmetic per row. With
    `sample_every` n > 1 only every n-th customer (by id) is coded; the others get 9, as if
    their rows came after the date, and are left out of that date's snapshot."""
    steps = " ".join(f"WHEN date > :d{i}_{k + 1} THEN {k}" for k in range(len(PERIOD_STARTS) - 1))
    sample = f"WHEN customer_id % {int(sample_every)} <> 0 THEN 9 " if sample_every > 1 else ""
    return f"CASE {sample}WHEN date > :d{i}_0 THEN 9 {steps} ELSE 6 END"


def _cutoffs(i: int, as_of: date) -> dict[str, date]:
    return {f"d{i}_{k}": as_of - timedelta(days=start) for k, start in enumerate(PERIOD_STARTS)}


def _in(i: int, *codes: int) -> str:
    return f"c{i} IN ({', '.join(map(str, codes))})"


def _date_aggregates(i: int) -> list[str]:
    """Per customer, from the period groups: the figures as of date number i. FILTER skips
    the groups outside a period instead of adding their zeros."""

    def total(what: str, *codes: int) -> str:
        return f"COALESCE(SUM({what}) FILTER (WHERE {_in(i, *codes)}), 0)"

    return [
        f"MAX(last) FILTER (WHERE c{i} <> 9) AS last{i}",
        f"MIN(first) FILTER (WHERE {_in(i, 0, 1, 2, 3, 4, 5)}) AS first{i}",
        f"{total('n', 0, 1, 2, 3, 4, 5)} AS n730_{i}",
        f"MAX(last) FILTER (WHERE {_in(i, 3, 4, 5, 6)}) AS last_ly{i}",
        f"{total('n', 0)} AS o90_{i}",
        f"{total('n', 3)} AS o90ly{i}",
        f"{total('pos', 0, 1, 2)} AS r365_{i}",
        f"{total('pos', 3, 4, 5)} AS rprev{i}",
        f"{total('neg', 0, 1, 2)} AS cr365_{i}",
        f"{total('net', 0, 1)} AS h1_{i}",
        f"{total('net', 2)} AS h2_{i}",
        f"{total('net', 3, 4)} AS h3_{i}",
        f"{total('net', 5)} AS h4_{i}",
    ]


_COLUMNS = ("last", "first", "n730_", "last_ly", "o90_", "o90ly", "r365_", "rprev", "cr365_",
            "h1_", "h2_", "h3_", "h4_")  # fmt: skip


def _orders_sql(count: int, sample_every: Sequence[int] = ()) -> str:
    """Two levels, so the ten million rows see only a few cheap expressions each: rows are
    grouped by customer, currency and their period before every as-of date (a handful of
    groups per customer); the figures per date are then conditional sums over those groups,
    converted into the base currency there (every sum is linear, so that is exact)."""
    every = list(sample_every) or [1] * count
    codes = ", ".join(f"{_period(i, every[i])} AS c{i}" for i in range(count))
    code_columns = ", ".join(f"c{i}" for i in range(count))
    figures = ",\n  ".join(a for i in range(count) for a in _date_aggregates(i))
    return f"""
WITH coded AS (
  SELECT customer_id, currency, amount, date, {codes}
  FROM transactions
  WHERE date > :scan_start AND date <= :scan_end
), grouped AS (
  SELECT customer_id, currency, {code_columns},
         COUNT(*) FILTER (WHERE amount > 0) AS n,
         SUM({_float("amount")}) FILTER (WHERE amount > 0) AS pos,
         -SUM({_float("amount")}) FILTER (WHERE amount < 0) AS neg,
         MAX(date) FILTER (WHERE amount > 0) AS last_date,
         MIN(date) FILTER (WHERE amount > 0) AS first_date
  FROM coded GROUP BY customer_id, currency, {code_columns}
), g AS (
  SELECT customer_id, {code_columns}, n, rate * pos AS pos, rate * neg AS neg,
         rate * (pos - neg) AS net, last, first
  FROM (
    SELECT grouped.customer_id, {code_columns}, grouped.n,
           COALESCE(grouped.pos, 0) AS pos, COALESCE(grouped.neg, 0) AS neg,
           {_day_sql("last_date")} AS last, {_day_sql("first_date")} AS first,
           CASE WHEN grouped.currency = :base THEN 1
                ELSE {_float("COALESCE(r.rate, 0)")} END AS rate
    FROM grouped LEFT JOIN currency_rates r ON r.currency = grouped.currency
  ) converted
)
SELECT g.customer_id,
  {figures}
FROM g GROUP BY g.customer_id
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
    as_of_dates: Sequence[date],
    *,
    base_currency: str,
    nps_templates: Sequence[str],
    sample_every: Sequence[int] = (),
) -> list[Snapshot]:
    """Raw figures for each date, from one transaction scan and one statement each for
    answers, wave outcomes and cases, all dates at once. Customers appear in a date's
    snapshot when active then (and, with `sample_every[i]` n, when their id is a multiple
    of n)."""
    dates = list(as_of_dates)
    params = {k: v for i, d in enumerate(dates) for k, v in _cutoffs(i, d).items()}
    params |= {"base": base_currency, "scan_end": max(dates),
               "scan_start": min(dates) - timedelta(days=730)}  # fmt: skip
    stmt = text(_orders_sql(len(dates), sample_every)).bindparams(
        *(bindparam(name, type_=Date) for name in params if name not in ("base",))
    )
    until = [end_of(d) for d in dates]
    with _attitude_beside(until, nps_templates) as attitude, _big_query_settings():
        result = db.session.execute(stmt, params)
        columns = list(result.keys())
        rows = result.cursor.fetchall() if result.cursor is not None else []
    # The driver's own tuples: numpy reads them several times faster than SQLAlchemy rows.
    table = np.array(rows, dtype=float).reshape(len(rows), len(columns))
    table = table[np.argsort(table[:, 0], kind="stable")]  # by customer: lookups bisect
    out = []
    for i, as_of in enumerate(dates):
        d = day_number(as_of)
        col = {name: table[:, j] for j, name in enumerate(columns)}
        r365 = np.nan_to_num(col[f"r365_{i}"])
        active = r365 > 0
        ids = col["customer_id"][active].astype(np.int64)
        raw = {k: col[f"{k}{i}"][active] for k in _COLUMNS}
        raw["days_since"] = d - raw["last"]
        raw["days_since_ly"] = (d - 365) - raw["last_ly"]  # NaN: no order a year earlier
        out.append(Snapshot(as_of, ids, {k.rstrip("_"): v for k, v in raw.items()}))
    add_attitude(out, attitude.rows)
    return out


@dataclass
class _Pending:
    rows: tuple = ()


@contextmanager
def _attitude_beside(until: list, nps_templates: Sequence[str]):
    """The answers, silence and cases statements. On PostgreSQL they run on a connection of
    their own while the transaction scan runs: its last steps (combining the workers'
    groups, the per-date sums) use one core, and these fill the other. Only committed data
    is read there, which is all a churn run reads (it writes nothing before scoring)."""
    pending = _Pending()
    if db.session.get_bind().dialect.name != "postgresql":
        yield pending
        pending.rows = attitude_rows(db.session.connection(), until, nps_templates)
        return
    engine = db.engine

    def run() -> tuple:
        with engine.connect() as connection:
            return attitude_rows(connection, until, nps_templates)

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(run)
        yield pending
        pending.rows = future.result()


@contextmanager
def _big_query_settings():
    """PostgreSQL: no JIT (compiling this statement's many expressions took longer than
    running them) and room to aggregate in memory, for this statement only."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    names = ("jit", "work_mem")
    before = db.session.execute(
        text("SELECT current_setting('jit'), current_setting('work_mem')")
    ).one()
    set_config = text("SELECT set_config(:name, :value, true)")
    for name, value in zip(names, ("off", "256MB"), strict=True):
        db.session.execute(set_config, {"name": name, "value": value})
    try:
        yield
    finally:
        for name, value in zip(names, before, strict=True):
            db.session.execute(set_config, {"name": name, "value": value})


def feature_matrix(snapshot: Snapshot) -> np.ndarray:
    """The model's inputs (len(snapshot) x len(FEATURES)), bounded so no outlier dominates."""
    r = snapshot.raw
    n730 = r["n730"]
    span = r["last"] - r["first"]
    usual_gap = np.where(n730 >= 2, span / np.maximum(n730 - 1, 1), 365.0)
    # Seasonal customers: as long a pause at this time last year is not a warning sign.
    # A pause of under two weeks is never unusual, however often the customer orders.
    expected = np.fmax(usual_gap, np.where(r["days_since_ly"] <= 365, r["days_since_ly"], 0))
    expected = np.maximum(expected, 14)
    recency = np.log((1 + r["days_since"]) / (1 + expected))
    o90, o90ly = r["o90"], r["o90ly"]
    season = (o90 - o90ly) / np.maximum(np.maximum(o90, o90ly), 1)
    r365, rprev = r["r365"], r["rprev"]
    revenue_year = np.where(rprev > 0, (r365 - rprev) / np.maximum(np.maximum(r365, rprev), 1), 0)
    # The change from the first to the second half of the year, less the same change a year
    # earlier (a seasonal dip recurs and cancels), per average half year of revenue.
    trend = ((r["h1"] - r["h2"]) - (r["h3"] - r["h4"])) / np.maximum(r365 / 2, 1e-9)
    credit = r["cr365"] / np.maximum(r365, 1e-9)
    score, prev = r["score"], r["prev_score"]
    answered = ~np.isnan(score)
    drop = np.where(answered & ~np.isnan(prev), np.maximum(prev - score, 0) / 10, 0)
    columns = [
        np.clip(recency, -1.5, 4),
        np.clip(season, -1, 1),
        np.clip(revenue_year, -1, 1),
        np.clip(trend, -1, 1),
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
