"""POST /webhooks/sendgrid: SendGrid's signed event webhook."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from feedback.delivery import events
from feedback.extensions import csrf, db

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


@bp.post("/webhooks/sendgrid")
@csrf.exempt  # authenticated by SendGrid's ECDSA signature instead
def sendgrid_events():
    try:
        batch = events.verify(
            request.get_data(cache=False),
            request.headers.get(events.SIGNATURE_HEADER),
            request.headers.get(events.TIMESTAMP_HEADER),
            current_app.config["FEEDBACK_SENDGRID_WEBHOOK_KEY"],
        )
    except events.RejectedWebhook as exc:
        log.warning("SendGrid webhook refused: %s", exc)
        return jsonify(error=str(exc)), exc.status
    report = events.apply_events(batch)
    db.session.commit()
    return jsonify(
        received=report.received,
        applied=report.applied,
        repeated=report.repeated,
        ignored=report.ignored,
    )
