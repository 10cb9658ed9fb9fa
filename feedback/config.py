"""Configuration read once from the environment (FEEDBACK_*, DATABASE_URL)."""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("FEEDBACK_INSTANCE_DIR", Path.cwd() / "instance")).resolve()


class ConfigError(RuntimeError):
    """The environment holds a setting the app cannot start with."""


def parse_bool(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_list(value: str | None, default: list[str]) -> list[str]:
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_int(value: str | None, default: int, name: str) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    return number


def parse_percentages(value: str | None, default: tuple[int, ...]) -> tuple[Decimal, ...]:
    """'50,30,15' -> (0.50, 0.30, 0.15): the A, B and C shares of revenue."""
    raw = parse_list(value, [str(v) for v in default])
    try:
        shares = tuple(Decimal(v) / 100 for v in raw)
    except InvalidOperation:
        shares = ()
    if len(shares) != 3 or any(s <= 0 for s in shares) or sum(shares) >= 1:
        raise ConfigError(
            "FEEDBACK_ABC_THRESHOLDS must be three positive percentages summing to less "
            f"than 100 (A,B,C), got {value!r}"
        )
    return shares


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'feedback.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Let people paste plain postgres:// URLs; we talk to PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Production defaults; every value can be overridden from the environment."""

    def __init__(self) -> None:
        env = os.environ
        self.DEBUG = parse_bool(env.get("FEEDBACK_DEBUG"))
        self.TESTING = False
        self.SECRET_KEY = env.get("FEEDBACK_SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env.get("DATABASE_URL") or default_database_url()
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.FEEDBACK_BASE_CURRENCY = env.get("FEEDBACK_BASE_CURRENCY", "EUR").strip().upper()
        self.FEEDBACK_REDIS_URL = env.get("FEEDBACK_REDIS_URL") or None
        self.FEEDBACK_TIMEZONE = env.get("FEEDBACK_TIMEZONE", "Europe/Copenhagen")
        self.FEEDBACK_ABC_THRESHOLDS = parse_percentages(
            env.get("FEEDBACK_ABC_THRESHOLDS"), (50, 30, 15)
        )
        self.FEEDBACK_GROW_POTENTIALS = parse_list(
            env.get("FEEDBACK_GROW_POTENTIALS"), ["high", "medium"]
        )
        self.FEEDBACK_TEMPLATES_DIR = env.get("FEEDBACK_TEMPLATES_DIR") or str(
            Path(__file__).resolve().parent.parent / "survey_templates"
        )
        # Surveys: links in e-mails start with the base URL; {company} in texts is the sender.
        self.FEEDBACK_BASE_URL = env.get("FEEDBACK_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.FEEDBACK_COMPANY_NAME = env.get("FEEDBACK_COMPANY_NAME", "Nordlys Supply")
        self.FEEDBACK_QUIET_DAYS = parse_int(
            env.get("FEEDBACK_QUIET_DAYS"), 90, "FEEDBACK_QUIET_DAYS"
        )
        self.FEEDBACK_SEND_BATCH = parse_int(
            env.get("FEEDBACK_SEND_BATCH"), 1000, "FEEDBACK_SEND_BATCH"
        )
        # E-mail: "outbox" writes .eml files (default, demo, tests); "smtp"; "sendgrid".
        self.FEEDBACK_MAIL_BACKEND = env.get("FEEDBACK_MAIL_BACKEND", "outbox").strip().lower()
        if self.FEEDBACK_MAIL_BACKEND not in ("outbox", "smtp", "sendgrid"):
            raise ConfigError("FEEDBACK_MAIL_BACKEND must be outbox, smtp or sendgrid")
        self.FEEDBACK_MAIL_FROM = env.get(
            "FEEDBACK_MAIL_FROM", f"{self.FEEDBACK_COMPANY_NAME} <no-reply@feedbackloop.test>"
        )
        self.FEEDBACK_OUTBOX_DIR = env.get("FEEDBACK_OUTBOX_DIR") or str(INSTANCE_DIR / "outbox")
        self.FEEDBACK_SMTP_HOST = env.get("FEEDBACK_SMTP_HOST", "localhost")
        self.FEEDBACK_SMTP_PORT = parse_int(
            env.get("FEEDBACK_SMTP_PORT"), 587, "FEEDBACK_SMTP_PORT"
        )
        self.FEEDBACK_SMTP_USERNAME = env.get("FEEDBACK_SMTP_USERNAME") or None
        self.FEEDBACK_SMTP_PASSWORD = env.get("FEEDBACK_SMTP_PASSWORD") or None
        self.FEEDBACK_SMTP_STARTTLS = parse_bool(env.get("FEEDBACK_SMTP_STARTTLS"), True)
        self.FEEDBACK_SENDGRID_API_KEY = env.get("FEEDBACK_SENDGRID_API_KEY") or None
        self.FEEDBACK_SENDGRID_HOST = env.get(
            "FEEDBACK_SENDGRID_HOST", "https://api.sendgrid.com"
        ).rstrip("/")
        # SendGrid's signed event webhook: its public key (base64 DER / PEM body).
        self.FEEDBACK_SENDGRID_WEBHOOK_KEY = env.get("FEEDBACK_SENDGRID_WEBHOOK_KEY") or None
        # Routing: the rules file, and how long an answer must stay unchanged before routing.
        self.FEEDBACK_ROUTING_FILE = env.get("FEEDBACK_ROUTING_FILE") or str(
            Path(self.FEEDBACK_TEMPLATES_DIR) / "routing.yaml"
        )
        self.FEEDBACK_ROUTING_SETTLE_MINUTES = parse_int(
            env.get("FEEDBACK_ROUTING_SETTLE_MINUTES"), 10, "FEEDBACK_ROUTING_SETTLE_MINUTES"
        )
        # The Grow–Retain follow-up programme: how often each class is contacted, by whom.
        self.FEEDBACK_FOLLOWUP_FILE = env.get("FEEDBACK_FOLLOWUP_FILE") or str(
            Path(self.FEEDBACK_TEMPLATES_DIR) / "followup.yaml"
        )
        # The queue's closed-loop figures (90-day medians) are kept this long per tab.
        self.FEEDBACK_FIGURES_CACHE_SECONDS = parse_int(
            env.get("FEEDBACK_FIGURES_CACHE_SECONDS"), 60, "FEEDBACK_FIGURES_CACHE_SECONDS"
        )
        # "auto": the web process runs the jobs itself when there is no Redis; "off": never.
        self.FEEDBACK_SCHEDULER = env.get("FEEDBACK_SCHEDULER", "auto").strip().lower()
        if self.FEEDBACK_SCHEDULER not in ("auto", "off"):
            raise ConfigError("FEEDBACK_SCHEDULER must be auto or off")
        self.FEEDBACK_LOGIN_RATE_LIMIT = env.get("FEEDBACK_LOGIN_RATE_LIMIT", "10 per minute")
        # Survey and unsubscribe pages, per client address (an office behind one NAT shares it).
        self.FEEDBACK_PUBLIC_RATE_LIMIT = env.get("FEEDBACK_PUBLIC_RATE_LIMIT", "300 per minute")
        # REST API calls per integration token (a 10,000-row upsert is one call).
        self.FEEDBACK_API_RATE_LIMIT = env.get("FEEDBACK_API_RATE_LIMIT", "600 per minute")
        # Rows one transaction batch may hold (POST /api/v1/transactions/batches).
        self.FEEDBACK_API_BATCH_MAX_ROWS = parse_int(
            env.get("FEEDBACK_API_BATCH_MAX_ROWS"), 5_000_000, "FEEDBACK_API_BATCH_MAX_ROWS"
        )
        # Outgoing webhooks: the POST's timeout (s); an endpoint whose every attempt failed for
        # this many hours is disabled; plain http:// only to localhost unless allowed; how long
        # events and the delivery log are kept (days).
        self.FEEDBACK_WEBHOOKS_TIMEOUT = parse_int(
            env.get("FEEDBACK_WEBHOOKS_TIMEOUT"), 10, "FEEDBACK_WEBHOOKS_TIMEOUT"
        )
        self.FEEDBACK_WEBHOOKS_DISABLE_AFTER = parse_int(
            env.get("FEEDBACK_WEBHOOKS_DISABLE_AFTER"), 24, "FEEDBACK_WEBHOOKS_DISABLE_AFTER"
        )
        self.FEEDBACK_WEBHOOKS_ALLOW_HTTP = parse_bool(env.get("FEEDBACK_WEBHOOKS_ALLOW_HTTP"))
        # POSTs in flight at once per worker (a batch's deliveries are all different
        # subjects, so this keeps each case's order); slow receivers need more.
        self.FEEDBACK_WEBHOOKS_THREADS = max(
            1, parse_int(env.get("FEEDBACK_WEBHOOKS_THREADS"), 8, "FEEDBACK_WEBHOOKS_THREADS")
        )
        self.FEEDBACK_WEBHOOKS_KEEP_DAYS = parse_int(
            env.get("FEEDBACK_WEBHOOKS_KEEP_DAYS"), 30, "FEEDBACK_WEBHOOKS_KEEP_DAYS"
        )
        # On PostgreSQL the survey page's one-tap POST is saved in front of Flask (lane.py).
        self.FEEDBACK_ANSWER_LANE = parse_bool(env.get("FEEDBACK_ANSWER_LANE"), True)
        self.FEEDBACK_MAX_UPLOAD_MB = int(env.get("FEEDBACK_MAX_UPLOAD_MB", "200"))
        self.MAX_CONTENT_LENGTH = self.FEEDBACK_MAX_UPLOAD_MB * 1024 * 1024
        self.RATELIMIT_STORAGE_URI = self.FEEDBACK_REDIS_URL or "feedback-memory://"
        # X-RateLimit-* headers cost extra counter reads on every request (15 % of the
        # answering throughput); a refused request still gets its 429.
        self.RATELIMIT_HEADERS_ENABLED = False
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # Behind a TLS-terminating proxy set FEEDBACK_HTTPS=1 so cookies are never sent in clear.
        self.FEEDBACK_HTTPS = parse_bool(env.get("FEEDBACK_HTTPS"))
        self.SESSION_COOKIE_SECURE = self.FEEDBACK_HTTPS
        self.REMEMBER_COOKIE_SECURE = self.FEEDBACK_HTTPS
        self.PREFERRED_URL_SCHEME = "https" if self.FEEDBACK_HTTPS else "http"
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        # Compressed: scripts, styles and JSON (the dashboard's first visit loads 6 MB of
        # Plotly and Dash; a view of 3,000 points is 480 KB). Not HTML: a page with a
        # CSRF token and echoed input, compressed, leaks the token to BREACH; no JSON
        # response here can be asked for across sites with the user's cookies (the
        # dashboard's POSTs need the CSRF header, the API a bearer token).
        self.COMPRESS_MIMETYPES = ["text/css", "text/javascript", "application/javascript",
                                   "application/json", "image/svg+xml"]  # fmt: skip


class TestConfig(Config):
    """Used by the test suite: DATABASE_URL still decides SQLite or PostgreSQL."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url)
        self.RATELIMIT_STORAGE_URI = "feedback-memory://"
        self.FEEDBACK_FIGURES_CACHE_SECONDS = 0  # tests read what they just wrote
