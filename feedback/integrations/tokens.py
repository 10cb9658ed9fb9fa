"""Integration tokens: create, list, revoke, and recognise a presented secret.

Takes the acting admin explicitly (None: the CLI); flushes, never commits.

Scopes nest: admin ⊇ write ⊇ read. A token is stored with every scope it implies
("write" is kept as "read,write"), so the lists show what a token can really do, a check
is a plain membership test, and a token's powers never change under it if the hierarchy
is ever revised.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from feedback.auth.models import User
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.integrations.models import NAME_MAX, SCOPE_SETS, SCOPES, ApiToken

SECRET_PREFIX = "fl_"  # lets a leaked token be recognised by secret scanners and people
PREFIX_LENGTH = len(SECRET_PREFIX) + 6  # "fl_4f9a2c": kept in clear to recognise a token
SECRET_MAX = 100  # ours are 46 characters; anything much longer is not worth hashing
# last_used_at is a hint for admins ("is this still in use?"), not an access log: writing
# it at most once a minute spares the database a write on every API call.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(DomainError):
    """A refusal; `field` names the form input it belongs to, if it belongs to one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def hash_secret(secret: str) -> str:
    """The stored form of a secret (see ApiToken.secret_hash for why SHA-256 suffices)."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def parse_scopes(scopes: str | Iterable[str] | None) -> str:
    """'write' or ['read', 'write'] -> 'read,write': known scopes plus those they imply."""
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes or ())
    wanted = {item.strip().lower() for item in items if item and item.strip()}
    if not wanted:
        raise TokenError("Give the token at least one scope: read, write or admin.", "scopes")
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise TokenError(
            f"Unknown scope {', '.join(map(repr, unknown))}: choose from read, write, admin.",
            "scopes",
        )
    return SCOPE_SETS[max(SCOPES.index(scope) for scope in wanted)]


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise TokenError("The token needs a name, e.g. the system that will use it.", "name")
    if len(name) > NAME_MAX:
        raise TokenError(
            f"A token name is at most {NAME_MAX} characters; this one has {len(name)}.", "name"
        )
    if not name.isprintable():
        raise TokenError("A token name cannot hold tabs, line breaks or control characters.",
                         "name")  # fmt: skip
    return name


def _require_admin(actor) -> None:
    if actor is not None and getattr(actor, "role", None) != "admin":
        raise DomainError("Only administrators can manage integration tokens.")


def _active_named(name: str) -> ApiToken | None:
    return db.session.scalar(
        select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    )


def create_token(
    name: str, scopes: str | Iterable[str] | None, actor=None, *, acts_as: str | None = None
) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is not kept, so show it now, once. `acts_as`
    is the e-mail of the user whose role the token has when it changes cases."""
    _require_admin(actor)
    name = _clean_name(name)
    scope_text = parse_scopes(scopes)
    acting_user = _acting_user(acts_as)
    duplicate = TokenError(
        f"An active token is already called {name!r}: revoke it first or choose another name.",
        "name",
    )
    if _active_named(name) is not None:
        raise duplicate
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_secret(secret),
        scopes=scope_text,
        created_by_id=actor.id if actor is not None else None,
        acts_as_id=acting_user.id if acting_user is not None else None,
        created_at=utcnow(),
    )
    db.session.add(token)
    try:
        db.session.flush()
    except IntegrityError:  # another admin took the name since the check; caller rolls back
        raise duplicate from None
    return token, secret


def _acting_user(email: str | None) -> User | None:
    email = (email or "").strip().lower()
    if not email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.is_active:
        raise TokenError(f"There is no active user {email!r} for the token to act as.", "acts_as")
    return user


def list_tokens() -> list[ApiToken]:
    """Every token: active ones first, each group by name."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .options(selectinload(ApiToken.created_by), selectinload(ApiToken.acts_as))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.name, ApiToken.id)
        )
    )


def get_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no integration token with that number.")
    return token


def revoke_token(name_or_id: str | int, actor=None) -> ApiToken:
    """Revoke at once: the token stops working on its next call. A str is always a name."""
    _require_admin(actor)
    if isinstance(name_or_id, int):
        token = db.session.get(ApiToken, name_or_id)
        label = f"number {name_or_id}"
    else:
        label = repr(name_or_id.strip())
        token = _active_named(name_or_id.strip()) or db.session.scalar(
            select(ApiToken)
            .where(ApiToken.name == name_or_id.strip())
            .order_by(ApiToken.revoked_at.desc())
            .limit(1)
        )
    if token is None:
        raise NotFound(f"There is no integration token {label}.")
    if token.revoked_at is not None:
        raise TokenError(
            f"The token {token.name!r} ({token.prefix}…) was already revoked on "
            f"{token.revoked_at:%Y-%m-%d %H:%M} UTC."
        )
    token.revoked_at = utcnow()
    db.session.flush()
    return token


def authenticate(bearer_value: str | None, *, now: datetime | None = None) -> ApiToken | None:
    """The active token whose secret is `bearer_value` (the part after "Bearer "), or None."""
    if not isinstance(bearer_value, str):
        return None
    secret = bearer_value.strip()
    if not secret.startswith(SECRET_PREFIX) or len(secret) > SECRET_MAX or not secret.isascii():
        return None
    # Constant-time enough: the database compares digests, not secrets, so its timing can
    # tell an attacker only how much of a digest matched, which does not help them build a
    # secret (unlike comparing the secret itself character by character).
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.flush()
    return token


def has_scope(token: ApiToken | None, scope: str) -> bool:
    """May `token` do what `scope` allows? (Implied scopes are stored, see the module doc.)"""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")  # a typo in code must not just deny
    return token is not None and token.revoked_at is None and scope in token.scope_list
