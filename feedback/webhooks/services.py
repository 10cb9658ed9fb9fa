"""What admins do with webhook endpoints: add, change, remove, rotate the secret, enable and
disable, read the delivery log, resend a delivery. Plain functions; they flush, the caller
commits, and a refusal is a DomainError with a message fit to show.

URLs: http or https only, with a host; plain http only to localhost/127.0.0.1/::1 (a
receiver on the same machine) unless FEEDBACK_WEBHOOKS_ALLOW_HTTP is set, since the payloads
carry customer names and comments.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from feedback.auth.models import User
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.outbox import EVENT_TYPES
from feedback.webhooks.models import ALL_EVENTS, WebhookDelivery, WebhookEndpoint

ROTATION_OVERLAP = timedelta(hours=24)  # both secrets sign for this long after a rotation
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
MAX_URL = 2000
MAX_DESCRIPTION = 200


class BadEndpoint(DomainError):
    """A URL, event list or description the endpoint cannot take; `field` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str | None, *, allow_http: bool) -> str:
    url = (url or "").strip()
    if not url:
        raise BadEndpoint("a URL is required", "url")
    if len(url) > MAX_URL:
        raise BadEndpoint(f"the URL is longer than {MAX_URL} characters", "url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise BadEndpoint(f"{url[:80]!r} is not a valid URL", "url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise BadEndpoint("the URL must start with https:// (or http://) and name a host", "url")
    if any(ch.isspace() for ch in url):
        raise BadEndpoint("the URL must not contain spaces", "url")
    if parts.scheme == "http" and not allow_http and host not in LOCAL_HOSTS:
        raise BadEndpoint(
            "use https:// (plain http is allowed only to localhost, or with "
            "FEEDBACK_WEBHOOKS_ALLOW_HTTP=1)",
            "url",
        )
    return url


def parse_events(raw) -> list[str]:
    """'case.created,case.breached', a list, or '*' -> the stored list; unknown types refused."""
    if raw is None:
        raw = ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    chosen = [item.strip() for item in items if item and item.strip()]
    if not chosen:
        raise BadEndpoint("choose at least one event (or * for all)", "events")
    if ALL_EVENTS in chosen:
        return [ALL_EVENTS]
    unknown = [item for item in chosen if item not in EVENT_TYPES]
    if unknown:
        raise BadEndpoint(
            f"unknown event {unknown[0][:60]!r}; choose from {', '.join(EVENT_TYPES)} or *",
            "events",
        )
    return [event for event in EVENT_TYPES if event in chosen]  # in the list's order, once


def _description(raw: str | None) -> str:
    text = (raw or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise BadEndpoint(f"the description is longer than {MAX_DESCRIPTION} characters",
                          "description")  # fmt: skip
    return text


def add_endpoint(url: str, events, *, description: str = "", actor: User | None = None,
                 allow_http: bool = False) -> WebhookEndpoint:  # fmt: skip
    endpoint = WebhookEndpoint(
        url=check_url(url, allow_http=allow_http),
        events=parse_events(events),
        description=_description(description),
        secret=new_secret(),
        enabled=True,
        created_by_id=actor.id if actor is not None else None,
        created_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def get_endpoint(endpoint_id) -> WebhookEndpoint:
    try:
        number = int(endpoint_id)
    except (TypeError, ValueError):
        raise NotFound(f"no webhook endpoint {str(endpoint_id)[:40]!r}") from None
    endpoint = db.session.get(WebhookEndpoint, number) if 0 < number < 2**31 else None
    if endpoint is None:
        raise NotFound(f"no webhook endpoint #{number}")
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    events=None,
    description: str | None = None,
    allow_http: bool = False,
) -> WebhookEndpoint:
    """Change what is given; events apply to events fanned out from now on."""
    if url is not None:
        endpoint.url = check_url(url, allow_http=allow_http)
    if events is not None:
        endpoint.events = parse_events(events)
    if description is not None:
        endpoint.description = _description(description)
    db.session.flush()
    return endpoint


def remove_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    db.session.delete(endpoint)
    db.session.flush()


def rotate_secret(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> str:
    """A new secret; the old one keeps signing (both in webhook-signature) for 24 hours."""
    now = now or utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def disable_endpoint(endpoint: WebhookEndpoint, reason: str, *,
                     now: datetime | None = None) -> WebhookEndpoint:  # fmt: skip
    """Stop delivering; events arriving meanwhile are not queued for it, and its pending
    deliveries wait until it is enabled again."""
    if endpoint.enabled:
        endpoint.enabled = False
        endpoint.disabled_at = now or utcnow()
        endpoint.disabled_reason = reason[:500]
        db.session.flush()
    return endpoint


def enable_endpoint(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> WebhookEndpoint:
    """Deliver again: its pending deliveries are due at once, with a fresh failure clock."""
    now = now or utcnow()
    if not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.state == "pending")
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.flush()
    return endpoint


def get_delivery(delivery_id) -> WebhookDelivery:
    try:
        number = int(delivery_id)
    except (TypeError, ValueError):
        raise NotFound(f"no webhook delivery {str(delivery_id)[:40]!r}") from None
    delivery = db.session.get(WebhookDelivery, number) if 0 < number < 2**62 else None
    if delivery is None:
        raise NotFound(f"no webhook delivery #{number}")
    return delivery


def resend(delivery: WebhookDelivery, *, now: datetime | None = None) -> WebhookDelivery:
    """Send the delivery's event again (same webhook-id), with a fresh retry schedule."""
    if delivery.state == "pending":
        raise DomainError(f"delivery #{delivery.id} is still pending: it will be sent anyway")
    if not delivery.endpoint.enabled:
        raise DomainError("the endpoint is disabled: enable it first")
    delivery.state = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    delivery.delivered_at = None
    db.session.flush()
    return delivery


def deliveries(endpoint: WebhookEndpoint, *, failed_only: bool = False, page: int = 1,
               per_page: int = 50):  # fmt: skip
    """The endpoint's delivery log, latest first, with each delivery's event (a Pagination)."""
    query = (
        select(WebhookDelivery)
        .options(joinedload(WebhookDelivery.event))
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
    )
    if failed_only:
        query = query.where(WebhookDelivery.state == "failed")
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def delivery_counts(endpoint_ids: list[int]) -> dict[int, dict[str, int]]:
    """endpoint id -> {state: deliveries}, for the list page."""
    counts: dict[int, dict[str, int]] = {i: {} for i in endpoint_ids}
    for endpoint_id, state, number in db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.state, func.count())
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.state)
    ):
        counts[endpoint_id][state] = number
    return counts
