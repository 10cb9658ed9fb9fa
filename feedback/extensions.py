"""Flask extensions, created unbound; create_app() binds them."""

import sqlite3

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

import feedback.ratelimit  # noqa: F401  (registers the feedback-memory:// limit storage)

# Named constraints so Alembic can alter them later (and SQLite batch mode works).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
compress = Compress()


class FeedbackApi(Api):
    """flask-smorest's Api without its app-wide JSON error handler: the staff pages keep
    their HTML error pages, and the API's blueprints answer with problem details."""

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        # flask-smorest documents its error responses as application/json; ours are
        # application/problem+json (RFC 9457), and a client or Schemathesis checks that.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = "application/problem+json"
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE


api = FeedbackApi()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record) -> None:
    """WAL lets readers work while an import writes; SQLite leaves foreign keys off by default."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    from feedback.dbtypes import sqlite_local_day

    dbapi_connection.create_function("feedback_local_day", 2, sqlite_local_day,
                                     deterministic=True)  # fmt: skip
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 32 MB of page cache instead of 2 MB: a write into a big table's indexes stays in
    # memory (a 10,000-row API upsert into a million transactions: see bench/api_bulk_upsert.py)
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()
