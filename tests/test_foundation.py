"""App factory, config, health check and the migrations."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from feedback import create_app
from feedback.config import Config, ConfigError, parse_percentages
from feedback.extensions import db


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"


def test_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("FEEDBACK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FEEDBACK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="FEEDBACK_SECRET_KEY"):
        create_app(Config())


def test_cli_without_secret_key_says_so_without_a_traceback(tmp_path):
    # In a process of its own: inside the test run an app context is always active, and
    # the command would use that app instead of building one (tests/test_cli_core.py).
    from tests.test_cli_core import _feedback

    result = _feedback(tmp_path, "users", "create", "a@example.com", "--role", "agent")
    assert result.returncode != 0
    assert "FEEDBACK_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_config_from_environment(monkeypatch):
    monkeypatch.setenv("FEEDBACK_BASE_CURRENCY", "dkk")
    monkeypatch.setenv("FEEDBACK_ABC_THRESHOLDS", "60,25,10")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    config = Config()
    assert config.FEEDBACK_BASE_CURRENCY == "DKK"
    assert [str(s) for s in config.FEEDBACK_ABC_THRESHOLDS] == ["0.6", "0.25", "0.1"]
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("value", ["50,30", "50,30,30", "a,b,c", "0,30,15"])
def test_bad_thresholds_are_refused(value):
    with pytest.raises(ConfigError, match="FEEDBACK_ABC_THRESHOLDS"):
        parse_percentages(value, (50, 30, 15))


def test_session_cookie_is_httponly_and_samesite(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_secure_cookies_when_served_over_https(monkeypatch):
    monkeypatch.setenv("FEEDBACK_HTTPS", "1")
    config = Config()
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE


def test_sqlite_runs_with_wal_and_foreign_keys(app, is_postgres):
    if is_postgres:
        pytest.skip("SQLite pragmas")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_have_one_head(app):
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1


def _scratch_database(database_url, tmp_path):
    """A database of our own so migrating does not touch the suite's schema."""
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}", None
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    name = f"feedback_migration_check_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    return database_url.rsplit("/", 1)[0] + "/" + name, (admin, name)


def _transaction_indexes(conn) -> set[str]:
    if conn.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'transactions'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions'"
    return set(conn.execute(text(query)).scalars())


# Reflection cannot read expression indexes (transactions' identity index); the test checks
# that one by name below instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
def test_migrated_schema_matches_models(database_url, tmp_path, make_app):
    from flask_migrate import upgrade

    url, cleanup = _scratch_database(database_url, tmp_path)
    try:
        migrated_app = make_app(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={})
        with migrated_app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
                index_names = _transaction_indexes(conn)
            db.engine.dispose()
        assert "uq_transactions_identity" in index_names
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()
