"""contact.opted_out for the outbox: a contact asked for no more surveys.

The event carries the contact's id and language, the customer's id, number and (company)
name, where the opt-out came from (the unsubscribe page, or the e-mail provider's report of
an unsubscribe or spam complaint), and a link to the customer page; never the contact's name
or e-mail address (the receiving system finds the person by the contact id through the API).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from feedback.customers.models import Contact, Customer
from feedback.extensions import db
from feedback.outbox import customer_path, emit_many, staff_url, stamp


def announce_opt_outs(contact_ids: list[int], *, source: str, now: datetime) -> int:
    """Emit contact.opted_out per contact, in the caller's transaction."""
    if not contact_ids:
        return 0
    rows = db.session.execute(
        select(Contact.id, Contact.language, Customer.id, Customer.external_id, Customer.name)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.id.in_(sorted(set(contact_ids))))
        .order_by(Contact.id)
    ).all()
    base = staff_url("")
    return emit_many([
        ("contact.opted_out", f"contact:{contact_id}", {
            "contact": {"id": contact_id, "language": language},
            "customer": {"id": customer_id, "external_id": external_id, "name": name},
            "source": source, "opted_out_at": stamp(now),
            "url": base + customer_path(external_id),
        })
        for contact_id, language, customer_id, external_id, name in rows
    ], occurred_at=now)  # fmt: skip
