"""Staff accounts: creating users and teams. Flushes; the caller commits."""

from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from feedback.auth.models import ROLES, Team, User
from feedback.errors import DomainError
from feedback.extensions import db

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    """Validated, lower-cased address; raises DomainError with a readable reason."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise DomainError(f"{email.strip()!r} is not a valid e-mail address: {exc}") from None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def get_or_create_team(name: str) -> Team:
    name = name.strip()
    if not name:
        raise DomainError("team name is empty")
    team = db.session.scalar(select(Team).where(func.lower(Team.name) == name.lower()))
    if team is None:
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
    return team


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(
    email: str, role: str, password: str, *, name: str = "", team_name: str | None = None
) -> User:
    """Create an active staff account."""
    email = normalise_email(email)
    if role not in ROLES:
        raise DomainError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    check_password_strength(password)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DomainError(f"a user with e-mail {email} already exists")
    user = User(email=email, role=role, name=name.strip(), active=True)
    user.set_password(password)
    if team_name:
        user.team = get_or_create_team(team_name)
    db.session.add(user)
    db.session.flush()
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def active_users() -> list[User]:
    """Everyone who can sign in, by name."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.name, User.email)
    ))  # fmt: skip
