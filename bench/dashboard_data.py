"""The dashboard bench's data: 100,000 customers, ~10,000,000 transactions and
1,000,000 responses on PostgreSQL, in the schema `dash_bench` of the database `bench`.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/dashboard_data.py [--fresh]

It starts from the demo seed of bench/churn_recompute.py (schema `churn_bench`: 100,000
customers, 3 years, seed 42; seeded there first if missing), copied table by table, and
adds a monthly NPS pulse over the last two years (half the customers invited each month,
about half of them answering, scores around each customer's own earlier answers) until
there are 1,000,000 responses. The pulse waves are closed and their outcomes recorded the
way the app does. Reused by later runs unless --fresh.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo_seed import bench_app, seed
from sqlalchemy import func, select, text

from feedback.customers.models import Customer
from feedback.extensions import db
from feedback.responses.models import Response

SCHEMA = "dash_bench"
SOURCE = "churn_bench"
TARGET_RESPONSES = 1_000_000
PULSE_MONTHS = 24


def _copy_from_source() -> None:
    """Copy every table the source schema has, in foreign-key order, then the sequences."""
    conn = db.session.connection()
    present = {r[0] for r in conn.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
    ), {"s": SOURCE})}  # fmt: skip
    for table in db.metadata.sorted_tables:
        if table.name not in present:
            continue
        columns = ", ".join(c.name for c in table.columns)
        started = time.perf_counter()
        conn.execute(text(f"INSERT INTO {SCHEMA}.{table.name} ({columns}) "
                          f"SELECT {columns} FROM {SOURCE}.{table.name}"))  # fmt: skip
        print(f"  copied {table.name:<20} {time.perf_counter() - started:6.1f} s")
        if "id" in table.columns and table.columns["id"].autoincrement is not False:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{SCHEMA}.{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {SCHEMA}.{table.name}), 0) + 1, false) "
                f"WHERE pg_get_serial_sequence('{SCHEMA}.{table.name}', 'id') IS NOT NULL"
            ))  # fmt: skip
    db.session.commit()


def _pulse_wave(survey, version_id: int, sent: datetime, share: float) -> int:
    """One closed monthly wave: invite `share` of the customers' first contacts; about half
    answer within two weeks, scoring near their own earlier average."""
    from feedback.surveys.models import Wave

    closed = sent + timedelta(days=21)
    wave = Wave(survey_id=survey.id, status="closed", audience={}, created_at=sent,
                template_version_id=version_id, closes_at=closed, sent_at=sent,
                closed_at=closed)  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    conn = db.session.connection()
    conn.execute(text("""
        INSERT INTO invitations (wave_id, contact_id, customer_id, token, language, state,
                                 reminders_sent, sent_at, delivered_at, answered_at, created_at)
        SELECT :wave, k.id, k.customer_id, md5(:wave || '-' || k.id || random()::text)
                                            || md5(random()::text),
               k.language,
               CASE WHEN random() < 0.52 THEN 'answered' ELSE 'delivered' END,
               0, :sent, :sent + interval '5 minutes', NULL, :sent
        FROM (SELECT DISTINCT ON (customer_id) id, customer_id, language FROM contacts
              WHERE status = 'active' ORDER BY customer_id, id) k
        WHERE random() < :share
    """), {"wave": wave.id, "sent": sent, "share": share})  # fmt: skip
    conn.execute(text("""
        UPDATE invitations SET answered_at = sent_at + (random() * interval '14 days')
        WHERE wave_id = :wave AND state = 'answered'
    """), {"wave": wave.id})  # fmt: skip
    written = conn.execute(text("""
        INSERT INTO responses (invitation_id, wave_id, customer_id, template_version_id, score,
                               comment, language, answered_at, updated_at)
        SELECT i.id, i.wave_id, i.customer_id, :version,
               LEAST(10, GREATEST(0, ROUND(COALESCE(m.mean, 7.5) + (random() - 0.5) * 5)))::int,
               '', i.language, i.answered_at, i.answered_at
        FROM invitations i
        LEFT JOIN pulse_means m ON m.customer_id = i.customer_id
        WHERE i.wave_id = :wave AND i.state = 'answered'
    """), {"wave": wave.id, "version": version_id}).rowcount  # fmt: skip
    return written


def _add_pulse(needed: int) -> None:
    from feedback.risk.nonresponse import record_outcomes
    from feedback.surveys.models import Survey
    from feedback.surveys.services import create_survey, template_version_for
    from feedback.surveys.templates import load_templates

    templates = load_templates()
    survey = db.session.scalar(select(Survey).where(Survey.name == "Monthly NPS pulse"))
    monthly = survey is None  # a second run only tops up
    if monthly:
        survey = create_survey("Monthly NPS pulse", "nps", templates=templates, actor=None)
        db.session.flush()
    version_id = template_version_for(templates["nps"]).id
    conn = db.session.connection()
    conn.execute(text("CREATE TEMP TABLE pulse_means AS SELECT customer_id, AVG(score) AS mean "
                      "FROM responses WHERE score IS NOT NULL GROUP BY customer_id"))  # fmt: skip
    customers = db.session.scalar(select(func.count()).select_from(Customer))
    share = min(1.0, needed / (PULSE_MONTHS * customers * 0.52))
    now = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    written = 0
    for month in range(PULSE_MONTHS, 0, -1) if monthly else ():
        sent = (now - timedelta(days=30 * month)).replace(day=3)
        started = time.perf_counter()
        written += _pulse_wave(survey, version_id, sent, share)
        print(f"  pulse wave of {sent:%Y-%m-%d}: {written:,} responses so far "
              f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
    extra = 0
    while written < needed:  # the shares are random: top up with mid-month waves
        extra += 1
        remaining = min(1.0, (needed - written) / (customers * 0.52) * 1.05)
        sent = (now - timedelta(days=30 * extra)).replace(day=15)
        written += _pulse_wave(survey, version_id, sent, remaining)
        print(f"  top-up wave of {sent:%Y-%m-%d}: {written:,} responses so far")
    db.session.flush()
    record_outcomes()
    db.session.commit()


def prepare(fresh: bool):
    """An app on the bench schema, with the data in place (built on first use)."""
    workdir = Path(tempfile.gettempdir()) / "feedback-bench"
    workdir.mkdir(exist_ok=True)
    source = bench_app(SOURCE, fresh=False, workdir=workdir)
    with source.app_context():
        empty = not db.session.scalar(select(func.count()).select_from(Customer))
        db.session.remove()  # seeding drops constraints: no transaction of ours may hold a lock
        if empty:
            print("seeding the demo of 100,000 customers into churn_bench (once)…")
            seed(source, 100_000, 3, 42)
        db.session.remove()
        db.engine.dispose()
    app = bench_app(SCHEMA, fresh=fresh, workdir=workdir)
    with app.app_context():
        if not db.session.scalar(select(func.count()).select_from(Customer)):
            print(f"copying {SOURCE} into {SCHEMA}…")
            _copy_from_source()
        have = db.session.scalar(select(func.count()).select_from(Response))
        if have < TARGET_RESPONSES:
            print(f"{have:,} responses; adding a monthly pulse up to {TARGET_RESPONSES:,}…")
            _add_pulse(TARGET_RESPONSES - have)
        _complete_derived()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return app


def _complete_derived() -> None:
    """What `demo seed` adds after the raw data, done once here: today's churn run and
    its backtest (the predict and risk views), then the dashboard's facts, rebuilt
    whenever answers arrived after the last build (e.g. after the pulse top-up) or a
    fact table was never built."""
    from flask import current_app

    from feedback.reporting.build import rebuild_from_config
    from feedback.reporting.facts import rebuild_facts
    from feedback.reporting.models import ReportingBuild
    from feedback.risk.backtests import record_backtest
    from feedback.risk.churn import recompute_from_config
    from feedback.risk.models import ChurnRun
    from feedback.surveys.templates import load_templates

    config = current_app.config
    if not db.session.scalar(select(func.count()).select_from(ChurnRun)):
        started = time.perf_counter()
        templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
        recompute_from_config(config, templates, datetime.now(UTC).date())
        record_backtest(config, today=datetime.now(UTC).date())
        db.session.commit()
        print(f"  churn run and backtest: {time.perf_counter() - started:.0f} s")
    seen = db.session.scalar(
        select(ReportingBuild.response_mark).where(ReportingBuild.table_name == "customer_months")
    )
    newest = db.session.scalar(select(func.max(Response.id))) or 0
    if seen is not None and seen >= newest and not _facts_missing():
        return
    started = time.perf_counter()
    if seen is None or seen < newest:
        rebuild_from_config(config)
    rebuild_facts(config)
    db.session.commit()
    print(f"  dashboard facts rebuilt: {time.perf_counter() - started:.0f} s")


def _facts_missing() -> bool:
    """A fact table added since the data was built (never built here)."""
    from feedback.reporting.facts import BUILDERS, MONTHLY_SUMS
    from feedback.reporting.models import ReportingBuild

    built = set(db.session.scalars(select(ReportingBuild.table_name)))
    return not {*BUILDERS, *MONTHLY_SUMS} <= built


def counts(app) -> dict[str, int]:
    with app.app_context():
        conn = db.session.connection()
        return {t: conn.scalar(text(f"SELECT COUNT(*) FROM {t}"))
                for t in ("customers", "transactions", "responses", "invitations",
                          "wave_outcomes", "cases")}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="Copy and top up again.")
    args = parser.parse_args()
    started = time.perf_counter()
    bench = prepare(args.fresh)
    for table, count in counts(bench).items():
        print(f"{table + ':':<16}{count:>12,}")
    print(f"ready in {time.perf_counter() - started:.0f} s")
