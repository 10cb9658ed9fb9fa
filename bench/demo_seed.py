"""Time `feedback demo seed` on a scratch database.

    .venv/bin/python bench/demo_seed.py --customers 2000
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/demo_seed.py --customers 100000

Without DATABASE_URL it uses SQLite in a temporary folder. On PostgreSQL it works in the
database `bench` (created if missing, whatever database the URL names) and a schema of its
own that is dropped and recreated each run, so the test database is never touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback.config import normalise_database_url  # noqa: E402
from feedback.extensions import db  # noqa: E402

BENCH_DATABASE = "bench"


def _bench_url(url: str) -> str:
    """The same server as `url`, database `bench`, created on first use."""
    parts = urlsplit(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": BENCH_DATABASE}
        )
        if not exists:
            conn.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    engine.dispose()
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def add_database_argument(parser, default: str) -> None:
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", default),
        help="a PostgreSQL URL (its server is used, database `bench`), or `sqlite`",
    )  # fmt: skip


def use_database(url: str) -> None:
    """Point bench_app at `url`: `sqlite` means a file in the bench's temporary folder."""
    if url.startswith("sqlite"):
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = url


def bench_app(schema: str, *, fresh: bool, workdir: Path):
    """An app on a scratch SQLite file or PostgreSQL schema, with the tables created."""
    url = os.environ.get("DATABASE_URL")
    options: dict = {"pool_pre_ping": True}
    if url:
        url = _bench_url(normalise_database_url(url))
        engine = create_engine(url)
        with engine.begin() as conn:
            if fresh:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        engine.dispose()
        options["connect_args"] = {"options": f"-c search_path={schema}"}
    else:
        url = f"sqlite:///{workdir / f'{schema}.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "bench-only",
        }
    )
    with app.app_context():
        db.create_all()
    return app


def open_wave(count: int, languages: tuple[str, ...] = ("da",), name: str = "Bench NPS"):
    """`count` customers with one active contact each (languages in turn) and an NPS wave
    started to all of them: one pending invitation per contact. Needs an app context."""
    from sqlalchemy import insert

    from feedback.customers.models import Contact, Customer
    from feedback.dbtypes import utcnow
    from feedback.surveys import dispatch
    from feedback.surveys.services import create_survey, create_wave
    from feedback.surveys.templates import load_templates

    language = [languages[i % len(languages)] for i in range(count + 1)]
    db.session.execute(insert(Customer), [
        {"id": i, "external_id": f"K{i}", "name": f"Kunde {i} A/S", "language": language[i]}
        for i in range(1, count + 1)
    ])  # fmt: skip
    db.session.execute(insert(Contact), [
        {"customer_id": i, "email": f"k{i}@kunde{i}.test", "name": f"Kontakt {i}",
         "language": language[i], "status": "active"} for i in range(1, count + 1)
    ])  # fmt: skip
    db.session.commit()
    templates = load_templates()
    survey = create_survey(name, "nps", templates=templates, actor=None)
    wave = create_wave(survey, audience={}, actor=None)
    db.session.commit()
    dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=90)
    db.session.commit()
    return wave


def drop_bench_app(app, schema: str) -> None:
    """Close the bench app's connections and drop its PostgreSQL schema (SQLite's file goes
    with the temporary folder)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if describe(app) == "PostgreSQL":
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def describe(app) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def seed(app, customers: int, years: int, seed_value: int):
    """Run the demo seed as the CLI does (one commit); phases include the commit."""
    from feedback.demo.seed import seed_demo

    with app.app_context():
        started = time.perf_counter()
        result = seed_demo(app.config, customers=customers, years=years, seed=seed_value)
        db.session.commit()
        result.lap("commit", started)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-demo-") as workdir:
        app = bench_app("demo_seed_bench", fresh=True, workdir=Path(workdir))
        started = time.perf_counter()
        result = seed(app, args.customers, args.years, args.seed)
        seconds = time.perf_counter() - started
    rows = result.customers + result.contacts + result.transactions
    print(f"database:     {describe(app)}")
    print(f"customers:    {result.customers:,}")
    print(f"contacts:     {result.contacts:,}")
    print(f"transactions: {result.transactions:,}")
    for phase, spent in result.phases.items():
        print(f"  {phase + ':':<24}{spent:8.1f} s")
    print(f"seconds:      {seconds:.1f}")
    print(f"rows/s:       {rows / seconds:,.0f} (customers + contacts + transactions)")


if __name__ == "__main__":
    main()
