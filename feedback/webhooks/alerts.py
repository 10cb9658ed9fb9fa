"""Disabling an endpoint that keeps failing, and telling its admin by mail.

The mail goes to the admin who registered the endpoint if that account is active, else to
every active admin, through the delivery backend the rest of the app uses. The endpoint is
disabled (and committed) first: a mail that cannot leave is logged, not retried.
"""

from __future__ import annotations

import logging
from datetime import datetime

from markupsafe import escape
from sqlalchemy import select

from feedback.auth.models import User
from feedback.delivery.message import DeliveryError, MailContent, OutgoingMessage
from feedback.extensions import db
from feedback.webhooks.models import WebhookDelivery, WebhookEndpoint
from feedback.webhooks.services import disable_endpoint

log = logging.getLogger(__name__)


def disable_failing(config, endpoint_ids: list[int], *, now: datetime, backend=None) -> int:
    """Disable these endpoints (if still enabled) and mail their admins; returns how many."""
    hours = config["FEEDBACK_WEBHOOKS_DISABLE_AFTER"]
    messages = []
    disabled = 0
    for endpoint in db.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id.in_(endpoint_ids), WebhookEndpoint.enabled
        )  # fmt: skip
    ):
        last = db.session.execute(
            select(WebhookDelivery.last_status, WebhookDelivery.last_error)
            .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.attempts > 0)
            .order_by(WebhookDelivery.id.desc())
            .limit(1)
        ).first()
        said = (last.last_error or f"HTTP {last.last_status}") if last else "no answer"
        reason = f"Every delivery failed for {hours} hours (last: {said})"
        disable_endpoint(endpoint, reason, now=now)
        disabled += 1
        messages += [_message(config, endpoint, person, reason) for person in _admins(endpoint)]
    db.session.commit()
    if messages:
        if backend is None:
            from feedback.delivery.backends import backend_from_config

            backend = backend_from_config(config)
        try:
            for result in backend.send(messages):
                if not result.ok:
                    log.warning("webhook disable mail refused: %s", result.detail)
        except DeliveryError as exc:
            log.warning("webhook disable mail not sent: %s", exc)
    return disabled


def _admins(endpoint: WebhookEndpoint) -> list[User]:
    creator = endpoint.created_by
    if creator is not None and creator.active and creator.role == "admin":
        return [creator]
    return list(db.session.scalars(
        select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id)
    ))  # fmt: skip


def _message(config, endpoint: WebhookEndpoint, person: User, reason: str) -> OutgoingMessage:
    link = f"{config['FEEDBACK_BASE_URL']}/admin/webhooks/{endpoint.id}"
    text = (
        f"The webhook endpoint {endpoint.url} ({endpoint.description or 'no description'}) "
        f"has been disabled.\n{reason}.\n\nIts events are no longer queued. Fix the receiver, "
        f"then enable the endpoint again; the deliveries still pending are then sent.\n\n"
        f"{link}\n"
    )
    html = (
        f"<p>The webhook endpoint <code>{escape(endpoint.url)}</code> "
        f"({escape(endpoint.description or 'no description')}) has been disabled.</p>"
        f"<p>{escape(reason)}.</p><p>Its events are no longer queued. Fix the receiver, then "
        f"enable the endpoint again; the deliveries still pending are then sent.</p>"
        f'<p><a href="{escape(link)}">Open the endpoint</a></p>'
    )
    return OutgoingMessage(
        invitation_id=endpoint.id,  # the backends' result key: here an endpoint id
        to_email=person.email,
        to_name=person.display_name,
        content=MailContent(
            subject=f"Webhook disabled: {endpoint.url}"[:200], html=html, text=text, language="en"
        ),  # fmt: skip
        kind="webhook",
    )
