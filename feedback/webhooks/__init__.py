"""Outgoing signed webhooks: endpoints, the delivery job and its log. The blueprint holds the
admin pages; `outgoing_webhooks`, since `webhooks` is SendGrid's incoming hook."""

from flask import Blueprint

bp = Blueprint("outgoing_webhooks", __name__, url_prefix="/admin")

from feedback.webhooks import routes  # noqa: E402,F401  (routes attach to bp)
