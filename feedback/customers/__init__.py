"""Customers feature: blueprint with its pages."""

from flask import Blueprint

bp = Blueprint("customers", __name__)

from feedback.customers import routes  # noqa: E402,F401  (routes attach to bp)
