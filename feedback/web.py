"""What every staff page shares: error pages, template filters and helpers, login settings.

`init_web(app)` is called once by create_app. Templates get:
- filters `money`, `date`, `datetime` (times shown in FEEDBACK_TIMEZONE);
- globals `has_endpoint(name)` and `can(role)` (role hierarchy admin ⊇ manager ⊇ agent).
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import date as date_type
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from feedback.errors import DomainError, NotFound

EMPTY = "—"

# Titles and explanations of the error pages, by status code.
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: (
        "Not allowed",
        "Your account does not have access to this page. Ask an administrator if you need it.",
    ),
    404: ("Page not found", "There is nothing at this address. Check the link or start over."),
    405: ("Not allowed here", "This page cannot be used that way. Go back and use the buttons."),
    410: ("Gone", "This page existed once but has been removed."),
    413: ("Upload too large", "The file is larger than the server accepts."),
    429: (
        "Too many attempts",
        "You have tried that too often in a short time. Wait a minute and try again.",
    ),
    500: (
        "Something went wrong",
        "The server hit an unexpected problem. It has been logged; please try again shortly.",
    ),
}
CSRF_MESSAGE = "Your form expired or was sent from another site — reload the page and try again."


def init_web(app) -> None:
    """Register error handlers, template filters and globals, and the login settings."""
    from feedback.auth.loader import init_login

    init_login(app)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.globals["has_endpoint"] = has_endpoint
    app.jinja_env.globals["can"] = _current_user_can

    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, lambda exc: error_response(404, str(exc) or None))
    app.register_error_handler(DomainError, lambda exc: error_response(400, str(exc)))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


# --- filters -----------------------------------------------------------------------------


def money(value, currency: str | None = None, places: int = 0) -> str:
    """1234567.5 -> '1,234,568 EUR' (comma thousands, `places` decimals); None -> '—'."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{amount:,.{int(places)}f}"
    if text.startswith("-"):
        text = "−" + text[1:]  # a real minus sign reads better in tables
    return f"{text} {currency}" if currency else text


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_app.config.get("FEEDBACK_TIMEZONE") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:  # the database hands out UTC; a naive value is UTC too
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone())


def format_date(value, fmt: str = "%Y-%m-%d") -> str:
    """A date, or a datetime's date in the viewer's zone; None -> '—'."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        value = _local(value)
    if isinstance(value, date_type):
        return value.strftime(fmt)
    return str(value)


def format_datetime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in the viewer's zone (FEEDBACK_TIMEZONE); None -> '—'."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        return _local(value).strftime(fmt)
    return format_date(value)


def human_size(size: int | None) -> str:
    """Bytes as '200 MB' / '512 KB' / '900 bytes'."""
    if not size:
        return "the configured limit"
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


# --- template globals --------------------------------------------------------------------


def has_endpoint(name: str) -> bool:
    """True when a view called `name` is registered (pages are built one feature at a time)."""
    return name in current_app.view_functions


def _current_user_can(role: str) -> bool:
    from feedback.auth.decorators import user_has_role

    return current_user.is_authenticated and user_has_role(current_user, role)


# --- error pages -------------------------------------------------------------------------


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(code: int, detail: str | None = None):
    """The friendly page (or JSON `{"error": ...}`) for an HTTP error code."""
    title, message = ERROR_TEXTS.get(code, (f"Error {code}", "The request could not be served."))
    if code == 413:
        limit = human_size(current_app.config.get("MAX_CONTENT_LENGTH"))
        message = f"The file is larger than the {limit} the server accepts. Upload a smaller file."
    message = detail or message
    if request.path.startswith("/api/"):  # outside the API's own blueprints (unknown URL)
        from feedback.problems import problem

        return problem(code, detail or message)
    if _wants_json():
        return jsonify(error=message, status=code), code
    try:
        body = render_template("errors/error.html", code=code, title=title, message=message)
    except Exception:  # the layout itself failed (e.g. database down): fall back to bare HTML
        current_app.logger.exception("error page could not be rendered")
        body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"
    return body, code


def _csrf_error(exc: CSRFError):
    return error_response(400, CSRF_MESSAGE)


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc  # redirects raised as exceptions pass through untouched
    if request.path.startswith("/api/"):  # an unknown URL or method under the API
        from feedback.problems import http_problem

        return http_problem(exc)
    return error_response(exc.code)


def _server_error(exc: InternalServerError):
    from feedback.extensions import db

    try:
        db.session.rollback()  # a failed transaction must not break the error page's queries
    except Exception:
        current_app.logger.exception("rollback after a server error failed")
    return error_response(500)
