"""Time one churn recompute over 100,000 customers and ~10 million transactions.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/churn_recompute.py

The data is the demo seed (100,000 customers, 3 years, seed 42, with its year of survey
waves, answers and non-responses), seeded once into the schema `churn_bench` of the
database `bench` and reused by later runs. Each timed recompute (fit on the history as of
180 days earlier, score every active customer, store the scores) is rolled back, so every
run measures the same work. Target: 20 s or less. The segment recompute on the same data is
timed alongside for comparison.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from demo_seed import bench_app, describe, seed
from sqlalchemy import func, select

from feedback.customers.models import Customer, Transaction
from feedback.customers.segments import recompute_from_config as recompute_segments
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.risk import churn, features
from feedback.risk.models import WaveOutcome
from feedback.surveys.templates import load_templates

TARGET_SECONDS = 20
SCHEMA = "churn_bench"


class _Timed:
    """Wraps features.snapshots to time the SQL part of a recompute."""

    def __init__(self):
        self.seconds = 0.0
        self._original = features.snapshots

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._original(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="Seed again even if present.")
    args = parser.parse_args()

    workdir = Path(tempfile.gettempdir()) / "feedback-bench"
    workdir.mkdir(exist_ok=True)
    app = bench_app(SCHEMA, fresh=False, workdir=workdir)
    with app.app_context():
        present = db.session.scalar(select(func.count()).select_from(Customer))
    if present != args.customers or args.fresh:
        print(f"seeding {args.customers:,} customers (found {present:,}) ...", flush=True)
        app = bench_app(SCHEMA, fresh=True, workdir=workdir)
        result = seed(app, args.customers, 3, 42)
        print(f"  seeded in {sum(result.phases.values()):.0f} s", flush=True)
        # as a live database would be: vacuumed and analysed
        with (
            app.app_context(),
            db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        ):
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("VACUUM ANALYZE")

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Transaction))
        answers = db.session.scalar(select(func.count()).select_from(Response))
        outcomes = db.session.scalar(select(func.count()).select_from(WaveOutcome))
        print(f"database:     {describe(app)}")
        print(f"customers:    {args.customers:,}")
        print(f"transactions: {count:,}; answers: {answers:,}; wave outcomes: {outcomes:,}")
        templates = churn.nps_templates(load_templates(app.config["FEEDBACK_TEMPLATES_DIR"]))
        timed = _Timed()
        churn.snapshots = timed  # churn imported the name: time it where it is called
        for _ in range(args.repeat):
            timed.seconds = 0.0
            started = time.perf_counter()
            run = churn.recompute(date.today(), base_currency=app.config["FEEDBACK_BASE_CURRENCY"],
                                  nps_template_keys=templates)  # fmt: skip
            db.session.flush()
            seconds = time.perf_counter() - started
            fit = run.fit
            summary = (f"{run.customer_count:,} scored, model {run.model} "
                       f"(fitted on {fit['customers']:,}, {fit['churned']:,} churned)")  # fmt: skip
            db.session.rollback()
            verdict = "ok" if seconds <= TARGET_SECONDS else f"over {TARGET_SECONDS} s"
            print(f"churn recompute: {seconds:.1f} s (SQL features {timed.seconds:.1f} s, "
                  f"fit, score and store {seconds - timed.seconds:.1f} s)  [{verdict}]  "
                  f"{summary}")  # fmt: skip
        started = time.perf_counter()
        recompute_segments(app.config, date.today())
        db.session.flush()
        print(f"segments recompute on the same data: {time.perf_counter() - started:.1f} s")
        db.session.rollback()


if __name__ == "__main__":
    main()
