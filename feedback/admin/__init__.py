"""Admin feature: staff accounts and data imports, for admins only."""

from flask import Blueprint

from feedback.auth.decorators import require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    """Every admin page: strangers go to sign-in, other roles get 403."""
    return require_role("admin")


from feedback.admin import routes  # noqa: E402,F401  (routes attach to bp)
