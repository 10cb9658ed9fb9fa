"""Every error under /api/v1 as RFC 9457 problem details (see feedback.problems)."""

from __future__ import annotations

import logging

from flask import current_app
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException, InternalServerError

from feedback.api.pagination import BadCursor
from feedback.errors import Conflict, DomainError, NotFound
from feedback.extensions import db, limiter
from feedback.problems import http_problem, problem

log = logging.getLogger(__name__)


def register_error_handlers(blueprint) -> None:
    blueprint.register_error_handler(RateLimitExceeded, _rate_limited)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(NotFound, lambda exc: _rolled_back(404, str(exc)))
    blueprint.register_error_handler(Conflict, lambda exc: _rolled_back(409, str(exc)))
    blueprint.register_error_handler(BadCursor, lambda exc: _rolled_back(400, str(exc)))
    blueprint.register_error_handler(DomainError, lambda exc: _rolled_back(422, str(exc)))
    blueprint.register_error_handler(InternalServerError, _server_error)


def _rolled_back(status: int, detail: str, **extra):
    db.session.rollback()
    return problem(status, detail, **extra)


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")  # webargs: {location: {field: [message, ...]}}
    if exc.code == 422 and messages:
        errors = [
            {"field": field, "message": " ".join(map(str, texts)), "in": location}
            for location, fields in messages.items()
            for field, texts in fields.items()
        ]
        return _rolled_back(422, "The request has invalid values.", errors=errors)
    db.session.rollback()
    return http_problem(exc, data.get("message"))


def _rate_limited(exc: RateLimitExceeded):
    import math
    import time

    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    return _rolled_back(
        429,
        f"Rate limit of {exc.limit.limit} per token reached; retry in {wait} s.",
        headers={"Retry-After": str(wait)},
    )


def _server_error(exc: InternalServerError):
    original = getattr(exc, "original_exception", None)
    if original is not None:
        current_app.logger.exception("API call failed", exc_info=original)
    return _rolled_back(500, "The server hit an unexpected problem; it has been logged.")
