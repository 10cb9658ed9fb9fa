"""Time the monthly customer facts (customer_months) over 100,000 customers.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/reporting_facts.py

Uses the seeded demo in the schema `churn_bench` of the database `bench` (100,000 customers,
3 years, seed 42: about 9.6 million transactions; seed it with bench/churn_recompute.py).
Creates the reporting tables there if missing (only those: nothing else in the schema is
dropped or altered), then times a full rebuild (target 60 s), a refresh of the previous and
current month after one new order (target 10 s), and the snapshot the views read, every
customer as of one month by NPS band (target 50 ms, warm cache). Rebuilds are committed: the
table is the one the next bench run and the views' benches read.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import timeit
from datetime import date
from decimal import Decimal
from pathlib import Path

from demo_seed import bench_app, describe
from sqlalchemy import func, select, text

from feedback.customers.models import Customer, Transaction
from feedback.extensions import db
from feedback.reporting import facts_as_of
from feedback.reporting.build import (
    current_month,
    month_key,
    month_start,
    rebuild,
    refresh,
    settings,
)
from feedback.reporting.models import CustomerMonth, ReportingBuild
from feedback.surveys.templates import load_templates

SCHEMA = "churn_bench"
TARGETS = {"rebuild": 60.0, "refresh": 10.0, "snapshot": 0.050}


def calibration_us() -> float:
    """The machine's speed right now: µs for sum(range(10000)), best of 5 (about 125 on a
    quiet run of this VM); the VM drifts, so every figure is printed beside it."""
    return min(timeit.repeat("sum(range(10000))", number=200, repeat=5)) / 200 * 1e6


def snapshot(month: date):
    """Every customer as of `month` by NPS band: customers, revenue, 12-month change."""
    facts = facts_as_of(month).subquery()
    return (
        select(
            facts.c.nps_band,
            func.count(),
            func.sum(facts.c.revenue_12m),
            func.sum(facts.c.revenue_change_12m),
            func.sum(func.cast(facts.c.non_responder, db.Integer)),
        )
        .group_by(facts.c.nps_band)
        .order_by(facts.c.nps_band)
    )


def _verdict(name: str, seconds: float) -> str:
    return "ok" if seconds <= TARGETS[name] else f"over {TARGETS[name]:g} s"


def _table_size() -> str:
    if db.engine.dialect.name != "postgresql":
        return "-"
    size = db.session.scalar(
        text("SELECT pg_size_pretty(pg_total_relation_size('customer_months'))")
    )
    heap = db.session.scalar(text("SELECT pg_size_pretty(pg_relation_size('customer_months'))"))
    return f"{size} with indexes ({heap} table)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(tempfile.gettempdir()) / "feedback-bench"
    workdir.mkdir(exist_ok=True)
    app = bench_app(SCHEMA, fresh=False, workdir=workdir)  # create_all adds missing tables
    with app.app_context():
        customers = db.session.scalar(select(func.count()).select_from(Customer))
        if not customers:
            raise SystemExit("no customers in churn_bench: run bench/churn_recompute.py first")
        transactions = db.session.scalar(select(func.count()).select_from(Transaction))
        kwargs = settings(app.config, load_templates(app.config["FEEDBACK_TEMPLATES_DIR"]))
        print(f"database:     {describe(app)}; calibration sum(range(10000)) "
              f"{calibration_us():.0f} µs")  # fmt: skip
        print(f"customers:    {customers:,}; transactions: {transactions:,}")

        for _ in range(args.repeat):
            result = rebuild(**kwargs)
            db.session.commit()
            print(f"rebuild:      {result.seconds:.1f} s  [{_verdict('rebuild', result.seconds)}]"
                  f"  {result.rows:,} rows, {result.first:%Y-%m} to {result.through:%Y-%m};"
                  f" calibration {calibration_us():.0f} µs")  # fmt: skip
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("VACUUM ANALYZE customer_months")
        print(f"table:        {_table_size()}")

        # A new order this month, then refresh; the order is removed again afterwards.
        customer_id = db.session.scalar(select(func.min(Customer.id)))
        for _ in range(args.repeat):
            order = Transaction(customer_id=customer_id, date=date.today(), amount=Decimal("1"),
                                currency=kwargs["base_currency"], kind="order",
                                fingerprint=f"bench-{time.time_ns()}")  # fmt: skip
            db.session.add(order)
            db.session.commit()
            result = refresh(**kwargs)
            db.session.commit()
            print(f"refresh:      {result.seconds:.1f} s  [{_verdict('refresh', result.seconds)}]"
                  f"  {result.kind}, {result.rows:,} rows"
                  + (f" ({result.reason})" if result.reason else ""))  # fmt: skip
            db.session.delete(order)
            db.session.commit()
        # Put the build marks back past the removed orders' ids: the table is right again
        # after one more refresh, without a rebuild.
        refresh(**kwargs)
        db.session.commit()

        month = month_start(month_key(current_month(kwargs["tz"])) - 1)
        stmt = snapshot(month)
        timings = []
        for _ in range(11):
            started = time.perf_counter()
            rows = db.session.execute(stmt).all()
            timings.append(time.perf_counter() - started)
        median = statistics.median(timings[1:])
        print(f"snapshot:     {median * 1000:.0f} ms median of 10 warm runs  "
              f"[{_verdict('snapshot', median)}]  as of {month:%Y-%m}, by NPS band:")  # fmt: skip
        for band, count, revenue, change, silent in rows:
            print(f"  {band:<10} {count:>7,} customers  revenue 12m {revenue:>16,.2f}  "
                  f"change {change:>15,.2f}  non-responders {silent:>6,}")  # fmt: skip
        build = db.session.get(ReportingBuild, "customer_months")
        count = db.session.scalar(select(func.count()).select_from(CustomerMonth))
        print(f"table rows:   {count:,}; last build through {build.through:%Y-%m}")
        db.session.rollback()


if __name__ == "__main__":
    main()
