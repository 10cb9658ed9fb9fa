"""Integration tokens: the secrets other systems present to the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.auth.models import User
from feedback.dbtypes import UTCDateTime, utcnow
from feedback.extensions import db

# Nested, so a token needs only its highest scope: admin ⊇ write ⊇ read.
SCOPES = ("read", "write", "admin")
# Tokens keep every scope they imply (see tokens.py), so only these three values occur.
SCOPE_SETS = tuple(",".join(SCOPES[: n + 1]) for n in range(len(SCOPES)))
NAME_MAX = 80


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(f"scopes IN ({', '.join(map(repr, SCOPE_SETS))})", name="scopes"),
        CheckConstraint("name <> ''", name="name"),
        # A name picks one live token (`feedback tokens revoke NAME`); revoked ones keep
        # theirs, so a name can be reused after its token is revoked.
        Index(
            "uq_api_tokens_active_name",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # The secret's first characters ("fl_4f9a2c"), shown in lists to recognise a token;
    # too short to help anyone guess the rest.
    prefix: Mapped[str] = mapped_column(String(12))
    # SHA-256 hex digest of the secret. A fast unsalted hash is enough here: the secret
    # is 256 random bits, so there is no dictionary to try and brute force is hopeless;
    # slow salted hashes protect guessable passwords, and would cost every API call that
    # hashing time and rule out finding the token by an index lookup on its digest.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(40))  # one of SCOPE_SETS, e.g. "read,write"
    created_by_id: Mapped[int | None] = mapped_column(  # None: made with the CLI
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Case changes need a person to answer for them: the token changes cases as this user,
    # under that user's role. None: the token can read cases but not change them.
    acts_as_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the minute
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    acts_as: Mapped[User | None] = relationship(foreign_keys=[acts_as_id])

    @property
    def scope_list(self) -> tuple[str, ...]:
        return tuple(self.scopes.split(","))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} {self.prefix}… {self.scopes}>"
