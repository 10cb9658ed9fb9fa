"""The answer lane: the one-tap score saved without the full Flask request cycle.

The survey page posts the tapped score the moment a browser shows it, so a wave's answers
arrive in bursts. Through Flask each costs about 2 ms of Python (routing, session, CSRF,
limiter, SQLAlchemy) around a 0.3 ms statement. This WSGI middleware, in front of the app
on PostgreSQL, takes only the requests it can show Flask would accept and save the same way:

- `POST /s/<token>/score` with a small JSON body `{"score": N}` or `{"question": key, ...}`;
- a session cookie and `X-CSRFToken` header that pass Flask-WTF's own check (the same
  serializers, keys and limits; over HTTPS the same-origin Referer check too);
- within the public rate limit, counted in the same bucket the Flask route uses;
- and one_tap's single statement finds an open wave with the score on its scale.

Everything else, and any error, goes on to Flask untouched (the body is handed back), and
Flask saves it or answers with the precise error. The upsert is idempotent, so a request
the lane tried and then passed on is still saved exactly once. What the lane answers skips
Flask's request hooks: a hook meant for every public request must be added here too.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import re
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from limits import parse as parse_limit
from sqlalchemy import create_engine
from werkzeug.http import parse_cookie

from feedback.responses.one_tap import FAST_SAVE_SQL, plain_score

log = logging.getLogger(__name__)

LANE_APPLICATION_NAME = "feedback-answer-lane"  # how its connections show in pg_stat_activity
SCORE_LIMIT_SCOPE = "survey-score"  # the rate-limit bucket shared with the Flask route
_PATH = re.compile(r"/s/([A-Za-z0-9_-]{16,128})/score")
_MAX_BODY = 512
_STATEMENT = re.sub(r":(token|now|score|question|base_url)\b", r"%(\1)s", FAST_SAVE_SQL)


def install_answer_lane(app) -> None:
    """Put the lane in front of the app where it applies (PostgreSQL, lane switched on)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if app.config.get("FEEDBACK_ANSWER_LANE", True) and uri.startswith("postgresql"):
        app.wsgi_app = AnswerLane(app, app.wsgi_app)


class AnswerLane:
    def __init__(self, app, wsgi_app) -> None:
        from feedback.extensions import limiter

        config = app.config
        self.wsgi_app = wsgi_app
        self._config = config
        self._limiter = limiter
        self._sessions = app.session_interface.get_signing_serializer(app)
        self._session_cookie = config["SESSION_COOKIE_NAME"]
        self._session_max_age = int(app.permanent_session_lifetime.total_seconds())
        self._csrf = URLSafeTimedSerializer(
            config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token"
        )
        self._csrf_on = config.get("WTF_CSRF_ENABLED", True) and config.get(
            "WTF_CSRF_CHECK_DEFAULT", True
        )
        self._csrf_field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self._csrf_max_age = config.get("WTF_CSRF_TIME_LIMIT", 3600)
        self._csrf_headers = [
            "HTTP_" + name.upper().replace("-", "_")
            for name in config.get("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"])
        ]
        self._limit = parse_limit(config["FEEDBACK_PUBLIC_RATE_LIMIT"])
        self._base_url = config["FEEDBACK_BASE_URL"].rstrip("/")  # webhook events' links
        self._limit_prefix = config.get("RATELIMIT_KEY_PREFIX", "")
        self._engine = None
        self._engine_lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or not self._csrf_on or not _is_json(environ):
            return self.wsgi_app(environ, start_response)
        body = self._read_small_body(environ)
        if body is None:
            return self.wsgi_app(environ, start_response)
        try:
            score = self._take(environ, match.group(1), body)
        except Exception:  # anything unexpected: Flask handles the request in full
            log.exception("answer lane passed a request on after an error")
            score = None
        if score is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.wsgi_app(environ, start_response)
        payload = b'{"saved":true,"score":%d}\n' % score
        start_response(
            "200 OK",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    @staticmethod
    def _read_small_body(environ) -> bytes | None:
        """The body when it is small and declared; None leaves the stream unread for Flask."""
        length = environ.get("CONTENT_LENGTH", "")
        if not length.isdigit() or int(length) > _MAX_BODY:
            return None
        return environ["wsgi.input"].read(int(length))

    def _take(self, environ, token: str, body: bytes) -> int | None:
        """The saved score, or None when Flask must handle the request."""
        request = _parse_answer(body)
        if request is None or not self._forgery_checked(environ):
            return None
        if not self._within_rate_limit(environ):
            return None  # Flask counts it once more and answers 429
        question, score = request
        return score if self._save(token, question, score) else None

    def _forgery_checked(self, environ) -> bool:
        """Flask-WTF's check of the X-CSRFToken header against the session, done directly."""
        sent = next((environ[h] for h in self._csrf_headers if environ.get(h)), None)
        cookie = parse_cookie(environ).get(self._session_cookie)
        if not sent or not cookie:
            return False
        try:
            session = self._sessions.loads(cookie, max_age=self._session_max_age)
            expected = session[self._csrf_field]
            signed = self._csrf.loads(sent, max_age=self._csrf_max_age)
        except (BadData, KeyError, TypeError):
            return False
        if not (isinstance(expected, str) and isinstance(signed, str)):
            return False
        if not hmac.compare_digest(expected.encode(), signed.encode()):
            return False
        if environ.get("wsgi.url_scheme") == "https" and self._config.get(
            "WTF_CSRF_SSL_STRICT", True
        ):
            return _same_origin_referrer(environ)
        return True

    def _within_rate_limit(self, environ) -> bool:
        if not self._limiter.enabled:
            return True
        keys = [environ.get("REMOTE_ADDR") or "127.0.0.1", SCORE_LIMIT_SCOPE]
        if self._limit_prefix:
            keys.insert(0, self._limit_prefix)
        return self._limiter.limiter.hit(self._limit, *keys)

    def _save(self, token: str, question: str, score: int) -> bool:
        """Run the one-tap statement; False when it saved nothing (or failed)."""
        connection = self._pool().raw_connection()
        try:
            params = {"token": token, "now": datetime.now(UTC), "score": score,
                      "question": question, "base_url": self._base_url}  # fmt: skip
            row = connection.driver_connection.execute(_STATEMENT, params, prepare=True)
            return row.fetchone() is not None
        except Exception:
            connection.invalidate()  # a broken or doubtful connection is not reused
            raise
        finally:
            connection.close()

    def _pool(self):
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = _lane_engine(self._config)
        return self._engine


def _lane_engine(config):
    """An autocommit engine of its own: one statement needs no BEGIN/COMMIT, and no
    pre-ping round trip (a dead connection fails the statement and Flask takes over)."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.pop("pool_pre_ping", None)
    connect_args = {**options.pop("connect_args", {}), "application_name": LANE_APPLICATION_NAME}
    return create_engine(
        config["SQLALCHEMY_DATABASE_URI"],
        **options,
        connect_args=connect_args,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
    )


def _is_json(environ) -> bool:
    content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json"


def _parse_answer(body: bytes) -> tuple[str, int] | None:
    """(question, score) from the page's JSON body; None for anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    question = data.get("question") or ""
    score = plain_score(data.get("score"))
    if not isinstance(question, str) or score is None:
        return None
    return question, score


def _same_origin_referrer(environ) -> bool:
    referrer = urlsplit(environ.get("HTTP_REFERER", ""))
    return referrer.scheme == "https" and referrer.netloc == environ.get("HTTP_HOST")
