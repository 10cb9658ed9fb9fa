"""Surveys: templates, surveys, waves, invitations and audience rules; managers' pages."""

from flask import Blueprint

bp = Blueprint("surveys", __name__)

from feedback.surveys import routes  # noqa: E402,F401  (routes attach to bp)
