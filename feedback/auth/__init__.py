"""Auth feature: blueprint with its pages."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from feedback.auth import routes  # noqa: E402,F401  (routes attach to bp)
