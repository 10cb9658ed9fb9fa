"""Time one ABC segment recompute over 100,000 customers and ~10 million transactions.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/segments_recompute.py

The data is seeded once (demo seed, 100,000 customers, 3 years) into the schema
`segments_bench` of the database `bench` and reused by later runs; each timed recompute is
rolled back, so every run measures the same work. Target: 60 s or less.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from demo_seed import bench_app, describe, seed
from sqlalchemy import func, select

from feedback.customers.models import Customer, Transaction
from feedback.customers.segments import recompute_from_config
from feedback.extensions import db

TARGET_SECONDS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.gettempdir()) / "feedback-bench"  # SQLite file kept between runs
    workdir.mkdir(exist_ok=True)
    app = bench_app("segments_bench", fresh=False, workdir=workdir)
    with app.app_context():
        present = db.session.scalar(select(func.count()).select_from(Customer))
    if present != args.customers:
        print(f"seeding {args.customers:,} customers (found {present:,}) ...", flush=True)
        app = bench_app("segments_bench", fresh=True, workdir=workdir)
        result = seed(app, args.customers, 3, 42)
        phases = ", ".join(f"{name} {spent:.1f} s" for name, spent in result.phases.items())
        print(f"  seeded in {sum(result.phases.values()):.0f} s ({phases})", flush=True)

    with app.app_context():
        transactions = db.session.scalar(select(func.count()).select_from(Transaction))
        print(f"database:     {describe(app)}")
        print(f"customers:    {args.customers:,}")
        print(f"transactions: {transactions:,}")
        # Today's run exists (replace path); yesterday's does not (fresh insert).
        for label, as_of in (("replace today", date.today()), ("new date", None)):
            for _ in range(args.repeat):
                day = as_of or date.today() - timedelta(days=1)
                started = time.perf_counter()
                run = recompute_from_config(app.config, day)
                db.session.flush()
                seconds = time.perf_counter() - started
                assert run.customer_count == args.customers
                db.session.rollback()
                verdict = "ok" if seconds <= TARGET_SECONDS else f"over {TARGET_SECONDS} s"
                print(f"recompute ({label}, as of {day}): {seconds:.1f} s  [{verdict}]")


if __name__ == "__main__":
    main()
