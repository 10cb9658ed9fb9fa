"""Hand-made survey history for non-response and churn tests: real rows, no mocks.

`survey_wave(closed_on, {contact: outcome})` writes one closed wave of a real survey, with
an invitation per contact in the given state and a response where a score is given, then
records the wave's outcomes the way a close does.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from feedback.extensions import db
from feedback.responses.models import Response
from feedback.risk.nonresponse import record_outcomes
from feedback.surveys.models import Invitation, Survey, Wave
from feedback.surveys.services import template_version_for
from feedback.surveys.templates import load_templates

_templates = None


def _survey() -> Survey:
    global _templates
    survey = db.session.query(Survey).filter_by(name="History NPS").one_or_none()
    if survey is None:
        survey = Survey(name="History NPS", template_key="nps")
        db.session.add(survey)
        db.session.flush()
    return survey


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def survey_wave(closed_on: date, invitations: dict, *, days_open: int = 14) -> Wave:
    """invitations: {contact: score (int, answered) | "delivered" | "sent" | "bounced" |
    "failed"}. Returns the closed wave with its outcomes recorded."""
    global _templates
    _templates = _templates or load_templates()
    survey = _survey()
    sent = at(closed_on - timedelta(days=days_open))
    closed = at(closed_on, 18)
    wave = Wave(
        survey_id=survey.id, status="closed", sent_at=sent, closes_at=closed, closed_at=closed,
        template_version_id=template_version_for(_templates["nps"]).id,
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    for contact, what in invitations.items():
        answered = isinstance(what, int)
        invitation = Invitation(
            wave_id=wave.id, contact_id=contact.id, customer_id=contact.customer_id,
            token=secrets.token_urlsafe(32), language=contact.language,
            state="answered" if answered else what, sent_at=sent,
            answered_at=sent + timedelta(days=1) if answered else None,
        )  # fmt: skip
        db.session.add(invitation)
        db.session.flush()
        if answered:
            db.session.add(
                Response(
                    invitation_id=invitation.id, wave_id=wave.id,
                    customer_id=contact.customer_id,
                    template_version_id=wave.template_version_id, score=what,
                    language=contact.language, answered_at=invitation.answered_at,
                    updated_at=invitation.answered_at,
                )
            )  # fmt: skip
    db.session.flush()
    record_outcomes([wave.id], now=closed)
    db.session.commit()
    return wave


def orders(customer, days, amount=1000, currency="EUR") -> None:
    """One order (or, with a negative amount, a credit) per day given, in one statement."""
    from feedback.customers.models import Transaction

    rows = [
        {"customer_id": customer.id, "date": day, "amount": amount, "currency": currency,
         "kind": "credit" if amount < 0 else "order",
         "fingerprint": f"h-{customer.id}-{day.isoformat()}-{amount}-{n}"}
        for n, day in enumerate(days)
    ]  # fmt: skip
    if rows:
        db.session.execute(Transaction.__table__.insert(), rows)
    db.session.commit()


def every(start: date, end: date, days: int) -> list[date]:
    """start, start + days, ... up to end."""
    out, day = [], start
    while day <= end:
        out.append(day)
        day += timedelta(days=days)
    return out
