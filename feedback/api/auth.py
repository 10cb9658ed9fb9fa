"""Bearer-token authentication and scopes for every API call.

`Authorization: Bearer fl_…` names an integration token (feedback.integrations.tokens); a
session cookie never authenticates the API, so the API needs no CSRF token either. A call
needs the `read` scope to look and `write` to change anything, unless its view asks for more
with @requires("admin"). Missing or unusable credentials are 401 with a `WWW-Authenticate`
challenge (RFC 6750); a token without the scope is 403.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from feedback.extensions import db
from feedback.integrations.tokens import authenticate, has_scope
from feedback.problems import problem

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires(scope: str) -> Callable:
    """Mark a view as needing `scope` (instead of read for looking, write for changing)."""

    def mark(view):
        view.api_scope = scope
        return view

    return mark


def bearer_value() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def authenticate_request():
    """before_request of every API blueprint: the token into g.api_token, or a problem."""
    value = bearer_value()
    if value is None:
        return _unauthorized("Send an integration token: 'Authorization: Bearer fl_…'.", None)
    token = authenticate(value)
    if token is None:
        return _unauthorized("The token is unknown or has been revoked.", "invalid_token")
    if db.session.dirty:  # authenticate noted last_used_at (at most once a minute)
        db.session.commit()
    view = current_app.view_functions.get(request.endpoint)
    needed = getattr(view, "api_scope", None) or (
        "read" if request.method in READ_METHODS else "write"
    )
    if not has_scope(token, needed):
        return problem(
            403,
            f"This call needs the {needed!r} scope; the token {token.name!r} has "
            f"{', '.join(token.scope_list)}.",
            kind="insufficient-scope",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'},
        )
    g.api_token = token
    return None


def _unauthorized(detail: str, error: str | None):
    challenge = 'Bearer realm="feedback-api"' + (f', error="{error}"' if error else "")
    return problem(401, detail, headers={"WWW-Authenticate": challenge})


def rate_limit_key() -> str:
    """Rate limits count per token, read from the header so the limit is checked before any
    database work; calls without a token count per address."""
    value = bearer_value()
    if value is None:
        return "api-ip:" + get_remote_address()
    return "api-token:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def rate_limit() -> str:
    return current_app.config["FEEDBACK_API_RATE_LIMIT"]
