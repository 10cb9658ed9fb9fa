"""Response events for the outbox: response.created (the first answer to an invitation) and
response.updated (a later submission that changed the score, the CSI or the comment).

A response event carries the response's id, score, CSI, comment, language, wave id and
template key, the answer's times, the customer's id, number and (company) name, and a link to
the customer page. The comment is included: it is what the customer said, the content of the
event (a chat tool shows it next to the score). Not the contact: no name, no e-mail address.

The one-tap statement (one_tap.FAST_SAVE_SQL) writes the same payload in SQL on PostgreSQL;
tests/test_webhooks_events.py checks the two agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from feedback.customers.models import Customer
from feedback.extensions import db
from feedback.outbox import customer_path, emit, staff_url, stamp
from feedback.responses.models import Response
from feedback.surveys.models import TemplateVersion


def announce_response(type: str, response_id: int, *, now: datetime) -> None:
    """Emit `type` for the response as it now stands, in the caller's transaction."""
    row = db.session.execute(
        select(
            Response.id, Response.score, Response.csi, Response.comment, Response.language,
            Response.wave_id, TemplateVersion.template_key, Response.answered_at,
            Response.updated_at, Customer.id, Customer.external_id, Customer.name,
        )
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(TemplateVersion, TemplateVersion.id == Response.template_version_id)
        .where(Response.id == response_id)
    ).one()  # fmt: skip
    (response_id, score, csi, comment, language, wave_id, template, answered_at, updated_at,
     customer_id, external_id, name) = row  # fmt: skip
    data = {
        "response": {
            "id": response_id, "score": score, "csi": csi, "comment": comment or "",
            "language": language, "wave_id": wave_id, "template": template,
            "answered_at": stamp(answered_at), "updated_at": stamp(updated_at),
        },
        "customer": {"id": customer_id, "external_id": external_id, "name": name},
        "url": staff_url(customer_path(external_id)),
    }  # fmt: skip
    emit(type, f"response:{response_id}", data, occurred_at=now)
