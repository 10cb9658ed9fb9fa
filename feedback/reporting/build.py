"""Build customer_months: a full rebuild, set-based, and a cheap refresh of the latest months.

Both run in one transaction, so readers see the old rows or the new, never half of either:
1. transactions grouped by customer, month and currency into a scratch table (the one scan
   of the big table; on PostgreSQL an unlogged CREATE TABLE AS, which may use parallel
   workers where an INSERT may not);
2. one INSERT ... SELECT (sql.py) that converts the currencies, adds each customer's newest
   NPS answer and wave outcomes per month and rolls them up:
   - rebuild: every customer over every month from its first activity, with window
     functions (trailing 12-month sums, the last order and the last answer carried
     forward), written in month order so that one month's rows sit together on disk; on
     PostgreSQL into a bare copy of the table that is indexed and swapped in;
   - refresh: the previous and the current month only, from the table's own row for the
     month before and the months that leave the trailing windows (no window functions);
3. the build's state in reporting_builds, which tells the next refresh whether it may.

Months of timestamps (answers, wave closes) are cut at local midnight in the company's time
zone by a CASE over UTC edges computed here, so the SQL is the same on SQLite and PostgreSQL.

A refresh is exact as long as the table's older rows are; `refresh_needed` says when they
may not be (history imported, rates changed, months missing), and then it rebuilds instead.
ERP corrections of old transactions in place (same id) are not seen by it: the nightly
rebuild puts those right.
"""

from __future__ import annotations

import re
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, bindparam, delete, func, select, text

from feedback.customers.models import CurrencyRate, Transaction
from feedback.dbtypes import UTCDateTime, utcnow
from feedback.extensions import db
from feedback.reporting import sql
from feedback.reporting.models import CustomerMonth, ReportingBuild
from feedback.responses.models import Response
from feedback.risk.churn import nps_templates
from feedback.risk.models import WaveOutcome
from feedback.surveys.templates import load_templates

TABLE = CustomerMonth.__tablename__
BUILD_LOCK = 7_261_002  # pg_advisory_xact_lock key: one build at a time
REBUILD_HOUR = 2  # the job's nightly rebuild: its first run after 02:00 local time
COLUMNS = ("month", "customer_id", "revenue", "orders", "revenue_12m", "revenue_prev_12m",
           "last_order_on", "nps_score", "nps_answered_at", "waves_12m",
           "answered_12m")  # fmt: skip


@dataclass(frozen=True)
class BuildResult:
    kind: str  # rebuild | refresh
    first: date  # the first month written
    through: date  # the last month written
    rows: int
    seconds: float
    reason: str | None = None  # why a refresh rebuilt instead

    def summary(self) -> str:
        months = month_key(self.through) - month_key(self.first) + 1
        what = "rebuilt" if self.kind == "rebuild" else "refreshed"
        why = f" (a refresh was not enough: {self.reason})" if self.reason else ""
        return (f"customer months {what}{why}: {self.rows:,} rows for {months} months, "
                f"{self.first:%Y-%m} to {self.through:%Y-%m}, in {self.seconds:.1f} s")  # fmt: skip


def month_key(day: date) -> int:
    """Months since year 0: consecutive months have consecutive keys."""
    return day.year * 12 + day.month - 1


def month_start(key: int) -> date:
    return date(key // 12, key % 12 + 1, 1)


def current_month(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The first day of the month it is now in the company's time zone."""
    return (now or utcnow()).astimezone(tz).date().replace(day=1)


def _edge(key: int, tz: ZoneInfo) -> datetime:
    """The UTC instant at which month `key` begins in `tz`."""
    return datetime.combine(month_start(key), time(0), tzinfo=tz).astimezone(UTC)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


_MOMENTS = re.compile(r"e\d+|answers_from|waves_from|until")
_DAYS = re.compile(r"tx_from|tx_to|m\d+|month_[pc]")


def _statement(source: str, values: dict):
    """text(sql) with its parameters typed (instants as UTC, days as dates) and those it
    does not use left out."""
    names = set(re.findall(r"(?<!:):(\w+)", source))
    params = {name: value for name, value in values.items() if name in names}
    binds = [
        bindparam(name, expanding=True) if name == "nps"
        else bindparam(name, type_=UTCDateTime()) if _MOMENTS.fullmatch(name)
        else bindparam(name, type_=Date()) if _DAYS.fullmatch(name)
        else bindparam(name)
        for name in params
    ]  # fmt: skip
    return text(source).bindparams(*binds), params


def _sources(first: int, through: int, *, sources_from: int, waves_from: int, tz: ZoneInfo,
             base_currency: str, nps_template_keys) -> dict:  # fmt: skip
    """Group the transactions of months sources_from..through into reporting_month_tx, and
    return the SQL fragments and values the monthly part of a statement needs."""
    dialect = _dialect()
    kind = "UNLOGGED" if dialect == "postgresql" else "TEMPORARY"  # unlogged: parallel workers
    values = {
        "tx_from": month_start(sources_from),
        "tx_to": month_start(through + 1),
        "base": base_currency,
        "nps": list(nps_template_keys) or [""],
        "answers_from": _edge(sources_from, tz),
        "waves_from": _edge(waves_from, tz),
        "until": _edge(through + 1, tz),
    }
    values |= {f"e{key}": _edge(key, tz) for key in range(first + 1, through + 1)}
    db.session.execute(text("DROP TABLE IF EXISTS reporting_month_tx"))
    month_tx = sql.MONTH_TX.format(kind=kind, month=sql.month_of_date("date", dialect),
                                   amount=sql.float_amount(dialect))  # fmt: skip
    db.session.execute(*_statement(month_tx, values))
    fragments = {
        "money": sql.money(
            "SUM(g.amount * CASE WHEN g.currency = :base THEN 1 ELSE r.rate END)", dialect
        ),
        "answer_month": sql.month_of_moment("r.answered_at", first, through),
        "close_month": sql.month_of_moment("closed_at", first, through),
    }
    return {"fragments": fragments, "values": values}


def _first_activity(tz: ZoneInfo, through: int) -> int | None:
    """The month of the earliest transaction, NPS-or-other answer or wave outcome."""
    session = db.session
    firsts = [
        session.scalar(select(func.min(Transaction.date))),
        *(m.astimezone(tz).date() for m in (
            session.scalar(select(func.min(Response.answered_at))),
            session.scalar(select(func.min(WaveOutcome.closed_at))),
        ) if m is not None),
    ]  # fmt: skip
    keys = [month_key(day) for day in firsts if day is not None]
    return min(min(keys), through) if keys else None


def settings_for_big_statements() -> None:
    if _dialect() == "postgresql":  # for this transaction only
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
        db.session.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves


def _insert(select_sql: str, values: dict, table: str = TABLE) -> int:
    stmt, params = _statement(f"INSERT INTO {table} ({', '.join(COLUMNS)})\n{select_sql}", values)
    return db.session.execute(stmt, params).rowcount


# PostgreSQL: a rebuild fills a bare copy of the table (no index, no foreign key checked row
# by row: five times faster than inserting into the table itself), indexes it, and swaps
# it in. Readers see the old table until the commit; the swap itself takes milliseconds.
# The names are those of the model and its migration (a test compares them after a build).
_SWAP = (
    "ALTER TABLE customer_months_build ADD CONSTRAINT customer_months_build_pkey "
    "PRIMARY KEY (month, customer_id)",
    "CREATE INDEX customer_months_build_customer ON customer_months_build (customer_id, month)",
    "ALTER TABLE customer_months_build ADD CONSTRAINT customer_months_build_customer_fk "
    "FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE",
    "ANALYZE customer_months_build",
    "DROP TABLE customer_months",
    "ALTER TABLE customer_months_build RENAME TO customer_months",
    "ALTER TABLE customer_months RENAME CONSTRAINT customer_months_build_pkey "
    "TO pk_customer_months",
    "ALTER INDEX customer_months_build_customer RENAME TO ix_customer_months_customer",
    "ALTER TABLE customer_months RENAME CONSTRAINT customer_months_build_customer_fk "
    "TO fk_customer_months_customer_id_customers",
)


_CREATE_BUILD_TABLE = (
    "CREATE TABLE customer_months_build "
    "(LIKE customer_months INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
)


def _replace_all(select_sql: str | None, values: dict) -> int:
    """Replace every row with those of `select_sql` (None: none), in this transaction."""
    session = db.session
    if _dialect() != "postgresql":
        session.execute(delete(CustomerMonth))
        return _insert(select_sql, values) if select_sql else 0
    session.execute(text("DROP TABLE IF EXISTS customer_months_build"))
    session.execute(text(_CREATE_BUILD_TABLE))
    rows = _insert(select_sql, values, "customer_months_build") if select_sql else 0
    for statement in _SWAP:
        session.execute(text(statement))
    return rows


def _lock() -> None:
    if _dialect() == "postgresql":
        db.session.execute(text(f"SELECT pg_advisory_xact_lock({BUILD_LOCK})"))


def rebuild(*, through: date | None = None, base_currency: str, tz: ZoneInfo,
            nps_template_keys, reason: str | None = None) -> BuildResult:  # fmt: skip
    """Replace the whole table: every customer, every month from its first activity through
    `through` (default: the current month). Flushes; the caller commits."""
    started = clock.perf_counter()
    _lock()
    last = month_key(through or current_month(tz))
    marks = _marks()
    first = _first_activity(tz, last)
    if first is None:  # nothing happened yet: an empty table
        rows, first = _replace_all(None, {}), last
    else:
        settings_for_big_statements()
        got = _sources(first, last, sources_from=first, waves_from=first, tz=tz,
                       base_currency=base_currency,
                       nps_template_keys=nps_template_keys)  # fmt: skip
        select_sql = sql.REBUILD.format(
            first=first, through=last, month_date=sql.date_of_month("k", _dialect()),
            **got["fragments"],
        )  # fmt: skip
        rows = _replace_all(select_sql, got["values"])
        db.session.execute(text("DROP TABLE reporting_month_tx"))
    _record("rebuild", month_start(last), marks, base_currency, rows)
    db.session.flush()
    return BuildResult("rebuild", month_start(first), month_start(last), rows,
                       clock.perf_counter() - started, reason)  # fmt: skip


def refresh(*, base_currency: str, tz: ZoneInfo, nps_template_keys,
            now: datetime | None = None) -> BuildResult:  # fmt: skip
    """Recompute the previous and the current month, or rebuild when refresh_needed says the
    table's older months cannot be trusted. Flushes; the caller commits."""
    started = clock.perf_counter()
    _lock()
    current = month_key(current_month(tz, now))
    reason = refresh_needed(current, base_currency, tz)
    if reason:
        return rebuild(through=month_start(current), base_currency=base_currency, tz=tz,
                       nps_template_keys=nps_template_keys, reason=reason)  # fmt: skip
    marks = _marks()
    previous = current - 1
    settings_for_big_statements()
    got = _sources(previous - 11, current, sources_from=previous, waves_from=previous - 11,
                   tz=tz, base_currency=base_currency,
                   nps_template_keys=nps_template_keys)  # fmt: skip
    values = got["values"] | {
        "month_p": month_start(previous), "month_c": month_start(current),
        **{f"m{back}": month_start(previous - back) for back in (1, 11, 12, 23, 24)},
    }  # fmt: skip
    db.session.execute(delete(CustomerMonth).where(CustomerMonth.month >= month_start(previous)))
    rows = _insert(sql.REFRESH.format(p=previous, c=current, **got["fragments"]), values)
    db.session.execute(text("DROP TABLE reporting_month_tx"))
    _record("refresh", month_start(current), marks, base_currency, rows)
    db.session.flush()
    return BuildResult("refresh", month_start(previous), month_start(current), rows,
                       clock.perf_counter() - started)  # fmt: skip


def refresh_needed(current: int, base_currency: str, tz: ZoneInfo) -> str | None:
    """Why a refresh of months current - 1 and current would be wrong, or None: never built;
    a month between the last build and those is missing; a currency rate or the base
    currency changed (every month's revenue converts anew); transactions or answers stored
    since the last build are dated before the previous month (an import of history, a late
    entry), so the table's older months are stale. Each check is one index look-up."""
    build = db.session.get(ReportingBuild, TABLE)
    if build is None:
        return "the table was never built"
    if not current - 2 <= month_key(build.through) <= current:
        return f"the last build ran through {build.through:%Y-%m}"
    if build.base_currency != base_currency:
        return f"the base currency changed from {build.base_currency} to {base_currency}"
    if _rates_at() != build.rates_at:
        return "currency rates changed"
    before = month_start(current - 1)
    late = db.session.scalar(
        select(func.min(Transaction.date)).where(Transaction.id > build.transaction_mark)
    )
    if late is not None and late < before:
        return f"transactions dated {late.isoformat()} arrived since the last build"
    late_answer = db.session.scalar(
        select(func.min(Response.answered_at)).where(Response.id > build.response_mark)
    )
    if late_answer is not None and late_answer < _edge(current - 1, tz):
        day = late_answer.astimezone(tz).date()
        return f"answers given on {day.isoformat()} arrived since the last build"
    return None


def rebuild_due(now: datetime, tz: ZoneInfo) -> bool:
    """The nightly rebuild: due at the first job run after REBUILD_HOUR local time each day
    (or at once when the last rebuild is more than a day old)."""
    build = db.session.get(ReportingBuild, TABLE)
    if build is None:
        return True
    local_now, last = now.astimezone(tz), build.rebuilt_at.astimezone(tz)
    if now - build.rebuilt_at > timedelta(days=1):
        return True
    return last.date() < local_now.date() and local_now.hour >= REBUILD_HOUR


def _rates_at() -> datetime | None:
    return db.session.scalar(select(func.max(CurrencyRate.updated_at)))


def _marks() -> tuple[int, int, datetime | None]:
    return (
        db.session.scalar(select(func.coalesce(func.max(Transaction.id), 0))),
        db.session.scalar(select(func.coalesce(func.max(Response.id), 0))),
        _rates_at(),
    )


def _record(kind: str, through: date, marks, base_currency: str, rows: int) -> None:
    now = utcnow()
    build = db.session.get(ReportingBuild, TABLE)
    if build is None:
        build = ReportingBuild(table_name=TABLE, rebuilt_at=now)
        db.session.add(build)
    if kind == "rebuild":
        build.rebuilt_at = now
    build.refreshed_at = now
    build.through = through
    build.transaction_mark, build.response_mark, build.rates_at = marks
    build.base_currency = base_currency
    build.rows = rows


def settings(config, templates) -> dict:
    """The keyword arguments of rebuild and refresh from an app's config and templates."""
    return {
        "base_currency": config["FEEDBACK_BASE_CURRENCY"],
        "tz": ZoneInfo(config["FEEDBACK_TIMEZONE"]),
        "nps_template_keys": nps_templates(templates),
    }


def rebuild_from_config(config, through: date | None = None) -> BuildResult:
    """rebuild with the settings of an app's config (the demo seed's last step)."""
    templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
    return rebuild(through=through, **settings(config, templates))


def run_job(config, templates, now: datetime | None = None) -> BuildResult:
    """The job: the nightly rebuild when due, a refresh otherwise. Commits."""
    now = now or utcnow()
    kwargs = settings(config, templates)
    if rebuild_due(now, kwargs["tz"]):
        result = rebuild(**kwargs, through=current_month(kwargs["tz"], now))
    else:
        result = refresh(**kwargs, now=now)
    db.session.commit()
    return result
