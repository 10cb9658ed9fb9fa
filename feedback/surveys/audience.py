"""Who a wave invites, and why the others are skipped: one set-based query for both.

Contact rules (DOMAIN.md: don't over-survey, honour unsubscribes): opted-out and bounced
contacts are never invited; a contact invited in any wave within the quiet period is not
invited again; a contact is invited at most once per wave (also a database constraint).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal, select

from feedback.customers.models import Contact, Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.dbtypes import upsert_insert
from feedback.extensions import db
from feedback.surveys.models import Invitation, Wave

SKIP_REASONS = {
    "opted_out": "opted out",
    "bounced": "e-mail bounced before",
    "already_invited": "already invited in this wave",
    "quiet_period": "invited within the quiet period",
}


@dataclass
class AudiencePreview:
    invite: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason key -> contacts
    customers: int = 0  # customers matching the filter
    customers_without_contact: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def lines(self) -> list[str]:
        out = [
            f"{self.customers} customers match; {self.invite} contacts will be invited, "
            f"{self.skipped_total} skipped."
        ]
        for reason, label in SKIP_REASONS.items():
            if self.skipped.get(reason):
                out.append(f"  skipped, {label}: {self.skipped[reason]}")
        if self.customers_without_contact:
            out.append(f"  customers without any contact: {self.customers_without_contact}")
        return out


def _customer_filter(audience: dict) -> list:
    conditions = []
    if audience.get("classes"):
        conditions.append(CustomerSegment.abc_class.in_(audience["classes"]))
    if audience.get("programme"):
        conditions.append(CustomerSegment.programme == audience["programme"])
    if audience.get("owner_ids"):
        conditions.append(Customer.owner_id.in_(audience["owner_ids"]))
    if audience.get("customer_ids"):
        conditions.append(Customer.id.in_(audience["customer_ids"]))
    return conditions


def _customers(audience: dict):
    return (
        select(Customer.id)
        .select_from(Customer)
        .outerjoin(
            CustomerSegment,
            and_(
                CustomerSegment.customer_id == Customer.id,
                CustomerSegment.run_id == latest_run_id(),
            ),
        )
        .where(*_customer_filter(audience))
    )


def _contacts_with_reason(wave: Wave, now: datetime, quiet_days: int):
    audience = wave.audience or {}
    earlier = Invitation.__table__.alias("earlier")
    quiet_since = now - timedelta(days=quiet_days)
    reason = case(
        (Contact.status == "opted_out", literal("opted_out")),
        (Contact.status == "bounced", literal("bounced")),
        (
            exists().where(earlier.c.wave_id == wave.id, earlier.c.contact_id == Contact.id),
            literal("already_invited"),
        ),
        (
            exists().where(
                earlier.c.contact_id == Contact.id,
                earlier.c.state != "failed",
                func.coalesce(earlier.c.sent_at, earlier.c.created_at) >= quiet_since,
            ),
            literal("quiet_period"),
        ),
        else_=literal("invite"),
    ).label("reason")
    query = select(Contact.id, Contact.customer_id, Contact.language, reason).where(
        Contact.customer_id.in_(_customers(audience))
    )
    if audience.get("languages"):
        query = query.where(Contact.language.in_(audience["languages"]))
    return query


def preview_audience(wave: Wave, *, now: datetime, quiet_days: int) -> AudiencePreview:
    """How many contacts the wave would invite now, and how many are skipped by which rule."""
    counted = _contacts_with_reason(wave, now, quiet_days).subquery()
    preview = AudiencePreview()
    for reason, count in db.session.execute(
        select(counted.c.reason, func.count()).group_by(counted.c.reason)
    ):
        if reason == "invite":
            preview.invite = count
        else:
            preview.skipped[reason] = count
    matching = _customers(wave.audience or {}).subquery()
    preview.customers = db.session.scalar(select(func.count()).select_from(matching)) or 0
    preview.customers_without_contact = (
        db.session.scalar(
            select(func.count())
            .select_from(matching)
            .where(~exists().where(Contact.customer_id == matching.c.id))
        )
        or 0
    )
    return preview


def create_invitations(wave: Wave, *, now: datetime, quiet_days: int) -> int:
    """Insert a pending invitation for every contact the rules allow; returns how many.

    Safe to run twice or in two workers at once: the unique (wave, contact) constraint and
    ON CONFLICT DO NOTHING make the second run insert nothing.
    """
    rows = db.session.execute(_contacts_with_reason(wave, now, quiet_days)).all()
    values = [
        {
            "wave_id": wave.id,
            "contact_id": contact_id,
            "customer_id": customer_id,
            "language": language,
            "token": secrets.token_urlsafe(32),  # 256 random bits, unrelated to any id
            "state": "pending",
            "reminders_sent": 0,
            "created_at": now,
        }
        for contact_id, customer_id, language, reason in rows
        if reason == "invite"
    ]
    if not values:
        return 0
    statement = upsert_insert(Invitation.__table__).on_conflict_do_nothing(
        index_elements=["wave_id", "contact_id"]
    )
    count = select(func.count()).where(Invitation.wave_id == wave.id)
    before = db.session.scalar(count)
    for start in range(0, len(values), 5000):
        db.session.execute(statement, values[start : start + 5000])
    return db.session.scalar(count) - before
