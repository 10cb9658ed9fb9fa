"""Helpers the API tests share: tokens as headers, and problem+json checks."""

from __future__ import annotations

from feedback.extensions import db
from feedback.integrations import tokens

PROBLEM = "application/problem+json"


def bearer(scopes: str = "read,write", *, name: str | None = None,
           acts_as: str | None = None) -> dict[str, str]:  # fmt: skip
    """A new token's Authorization header (committed, so the request sees it)."""
    _, secret = tokens.create_token(name or f"T-{scopes}-{acts_as}", scopes, acts_as=acts_as)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def revoked(name: str = "revoked") -> dict[str, str]:
    headers = bearer("admin", name=name)
    tokens.revoke_token(name)
    db.session.commit()
    return headers


def problem_of(response, status: int) -> dict:
    """The problem details of `response`, checked to be a well-formed RFC 9457 problem."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("https://")
    return body


def assert_guarded(client, method: str, path: str, *, write: bool, **kwargs) -> None:
    """No token and a revoked token are 401; a read token on a write is 403."""
    call = getattr(client, method)
    problem_of(call(path, **kwargs), 401)
    problem_of(call(path, headers=revoked(f"revoked {method} {path}"), **kwargs), 401)
    if write:
        body = problem_of(call(path, headers=bearer("read", name=f"r {path}"), **kwargs), 403)
        assert "'write' scope" in body["detail"]
