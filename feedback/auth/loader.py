"""Flask-Login settings: how a session finds its user, where strangers are sent."""

from __future__ import annotations

from sqlalchemy import select

from feedback.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str):
    """The active user with this id; a deactivated account loses its session at once."""
    from feedback.auth.models import User

    try:
        ident = int(user_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(User).where(User.id == ident, User.active.is_(True)))


def init_login(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
