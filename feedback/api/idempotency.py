"""Writes: one transaction per call, and `Idempotency-Key` replays.

Every write view is wrapped by @write. The wrapper runs the view, and commits its changes
together with the stored response when the call carried an `Idempotency-Key`; any error
rolls everything back. A retry with the same key and the same request gets the first
response again (with `Idempotent-Replayed: true`) and changes nothing; the same key with a
different request is 422. Two copies of one request sent at once: the second waits on the
key's unique index until the first commits, then replays it (on SQLite both run and the
second is rolled back at its commit; see _keyed_last). Keys are kept 24 hours
(draft-ietf-httpapi-idempotency-key-header).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from flask import Response, g, make_response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from feedback.api.models import KEY_MAX, IdempotencyKey
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.problems import problem

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)


def write(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return _commit_if_ok(make_response(view(*args, **kwargs)))
        if not key or len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
            return problem(
                400, f"{HEADER} must be 1 to {KEY_MAX} printable ASCII characters.",
                kind="idempotency-key",
            )  # fmt: skip
        fingerprint = _fingerprint()
        earlier = _stored(key)
        if earlier is not None and earlier.created_at > utcnow() - KEEP:
            return _replay(earlier, fingerprint)
        if earlier is not None:  # expired but not yet swept: the key is free again
            db.session.delete(earlier)
            db.session.flush()
        if db.session.get_bind().dialect.name == "sqlite":
            return _keyed_last(view, args, kwargs, key, fingerprint)
        record = IdempotencyKey(
            token_id=g.api_token.id, key=key, request_hash=fingerprint, status=0, body=""
        )
        db.session.add(record)
        try:
            db.session.flush()  # waits here while another call with this key is running
        except IntegrityError:
            return _lost_race(key, fingerprint)
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            record.status = response.status_code
            record.body = response.get_data(as_text=True)
            record.location = response.headers.get("Location")
        return _commit_if_ok(response)

    return wrapper


def _keyed_last(view, args, kwargs, key: str, fingerprint: str) -> Response:
    """SQLite has one writer, and a row written holds the database until the commit. So the
    key goes in last, with the response: two calls with different keys overlap their
    parsing and checking instead of the second waiting for the first to finish (two pushes
    of a transaction batch at once). Two calls with one key both run; the second to commit
    meets the key's unique index, is rolled back whole, and replays the first."""
    response = make_response(view(*args, **kwargs))
    if response.status_code >= 400:
        db.session.rollback()
        return response
    db.session.add(IdempotencyKey(
        token_id=g.api_token.id, key=key, request_hash=fingerprint,
        status=response.status_code, body=response.get_data(as_text=True),
        location=response.headers.get("Location"),
    ))  # fmt: skip
    try:
        db.session.commit()
    except IntegrityError:
        return _lost_race(key, fingerprint)
    return response


def _lost_race(key: str, fingerprint: str) -> Response:
    """Another call with this key got there first: roll this one back and replay that one
    (or 409 if it failed and was rolled back itself, leaving nothing to replay)."""
    db.session.rollback()
    earlier = _stored(key)
    if earlier is None:
        return problem(409, "A call with this Idempotency-Key did not finish; retry.")
    return _replay(earlier, fingerprint)


def _commit_if_ok(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data())
    return digest.hexdigest()


def _stored(key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.token_id == g.api_token.id,
            IdempotencyKey.key == key,
        )
    )


def _replay(earlier: IdempotencyKey, fingerprint: str) -> Response:
    if earlier.request_hash != fingerprint:
        return problem(
            422,
            f"This {HEADER} was used for a different request; use a new key for a new request.",
            kind="idempotency-key-reused",
        )
    response = Response(earlier.body, earlier.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    if earlier.location:
        response.headers["Location"] = earlier.location
    return response


def forget_old_keys(now=None) -> int:
    """Delete keys older than KEEP (a daily job); returns how many went."""
    cutoff = (now or utcnow()) - KEEP
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= cutoff))
    db.session.commit()
    return result.rowcount or 0
