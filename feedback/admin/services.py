"""Staff account administration. Takes the acting admin explicitly; flushes, never commits."""

from __future__ import annotations

from sqlalchemy import select

from feedback.auth.models import ROLES, Team, User
from feedback.auth.services import (
    check_password_strength,
    create_user,
    generate_password,
    get_or_create_team,
    normalise_email,
)
from feedback.errors import DomainError, NotFound
from feedback.extensions import db


class InvalidField(DomainError):
    """A refusal that belongs to one input, so a form can show it next to that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _require_admin(actor: User) -> None:
    if actor is None or actor.role != "admin":
        raise DomainError("only administrators can manage staff accounts")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidField("role", f"Role must be one of {', '.join(ROLES)}.")


def _team(team_name: str | None) -> Team | None:
    name = (team_name or "").strip()
    return get_or_create_team(name) if name else None


def list_users() -> list[User]:
    """Everyone, active people first, then by name and e-mail."""
    return list(
        db.session.scalars(select(User).order_by(User.active.desc(), User.name, User.email))
    )


def list_team_names() -> list[str]:
    return list(db.session.scalars(select(Team.name).order_by(Team.name)))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no staff account with that number.")
    return user


def create_staff_user(
    actor: User,
    *,
    email: str,
    role: str,
    name: str = "",
    team_name: str | None = None,
    password: str | None = None,
) -> tuple[User, str | None]:
    """Create an account; without a password one is generated and returned (show it once)."""
    _require_admin(actor)
    try:
        address = normalise_email(email)
    except DomainError as exc:
        raise InvalidField("email", str(exc)) from None
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        raise InvalidField("email", f"A user with e-mail {address} already exists.")
    _check_role(role)
    generated = None
    if not password:
        password = generated = generate_password()
    try:
        check_password_strength(password)
    except DomainError as exc:
        raise InvalidField("password", f"The {exc}.") from None
    user = create_user(address, role, password, name=name, team_name=(team_name or "").strip())
    return user, generated


def update_staff_user(
    actor: User, user: User, *, name: str, role: str, team_name: str | None, active: bool
) -> User:
    """Change name, role, team and whether the account may sign in."""
    _require_admin(actor)
    _check_role(role)
    if user.id == actor.id:
        if role != "admin":
            raise InvalidField(
                "role", "You cannot take away your own admin role; ask another admin."
            )
        if not active:
            raise InvalidField(
                "active", "You cannot deactivate your own account; ask another admin."
            )
    user.name = name.strip()
    user.role = role
    user.team = _team(team_name)
    user.active = active
    db.session.flush()
    return user


def reset_password(actor: User, user: User) -> str:
    """Give `user` a new generated password and return it (shown once, stored hashed)."""
    _require_admin(actor)
    password = generate_password()
    user.set_password(password)
    db.session.flush()
    return password
