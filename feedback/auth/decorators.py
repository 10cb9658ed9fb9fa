"""Who may open which page.

Roles nest: an admin may do everything a manager may, a manager everything an agent may
(admin ⊇ manager ⊇ agent). `role_required("manager")` therefore admits managers and
admins. Naming several roles admits anyone at or above the lowest of them.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from feedback.auth.models import ROLES
from feedback.extensions import login_manager

# Higher rank includes the lower ones.
ROLE_RANK = {"agent": 1, "manager": 2, "admin": 3}
assert set(ROLE_RANK) == set(ROLES)


def user_has_role(user, *roles: str) -> bool:
    """True when `user`'s role is at or above the lowest of `roles`."""
    if not roles:
        return True
    needed = min(ROLE_RANK[role] for role in roles)
    return ROLE_RANK.get(getattr(user, "role", None), 0) >= needed


def require_role(*roles: str):
    """Inside a view or before_request: send strangers to login, refuse the wrong role (403)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not user_has_role(current_user, *roles):
        abort(403)
    return None


def role_required(*roles: str):
    """Decorator: the page needs a signed-in user holding one of `roles` (or a higher one)."""
    unknown = set(roles) - set(ROLE_RANK)
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            refusal = require_role(*roles)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        return wrapped

    return decorator
