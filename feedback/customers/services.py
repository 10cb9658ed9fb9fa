"""Customer look-ups and small domain actions (currency rates). Flushes; the caller commits."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback.customers.models import Contact, CurrencyRate, Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.errors import DomainError, NotFound
from feedback.extensions import db

_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def set_currency_rate(code: str, rate: str | Decimal, *, base_currency: str) -> CurrencyRate:
    """Store how many units of the base currency one unit of `code` is worth."""
    code = code.strip().upper()
    if not _CURRENCY_CODE.match(code):
        raise DomainError(f"{code!r} is not a three-letter ISO 4217 currency code")
    if code == base_currency:
        raise DomainError(f"{code} is the base currency; its rate is always 1")
    try:
        value = Decimal(str(rate).strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(f"rate {rate!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise DomainError(f"rate must be a positive number, not {rate!r}")
    if value != value.quantize(Decimal("1e-8")):
        raise DomainError("rate has more than 8 decimals")
    current = db.session.get(CurrencyRate, code)
    if current is None:
        current = CurrencyRate(currency=code, rate=value)
        db.session.add(current)
    else:
        current.rate = value
    db.session.flush()
    return current


def get_customer(external_id: str) -> Customer:
    customer = db.session.scalar(
        select(Customer)
        .where(Customer.external_id == external_id.strip())
        .options(selectinload(Customer.contacts), selectinload(Customer.owner))
    )
    if customer is None:
        raise NotFound(f"no customer with external id {external_id!r}")
    return customer


def current_segment(customer_id: int) -> CustomerSegment | None:
    return db.session.scalar(
        select(CustomerSegment).where(
            CustomerSegment.customer_id == customer_id, CustomerSegment.run_id == latest_run_id()
        )
    )


def customer_summary(external_id: str, *, base_currency: str) -> dict:
    """The customer as `feedback customers show --json` prints it."""
    from feedback.risk.nonresponse import ResponseStats, response_stats
    from feedback.risk.queries import latest_score

    customer = get_customer(external_id)
    segment = current_segment(customer.id)
    answers = response_stats([customer.id]).get(customer.id, ResponseStats())
    churn = latest_score(customer.id)
    return {
        "external_id": customer.external_id,
        "name": customer.name,
        "owner_email": customer.owner.email if customer.owner else None,
        "potential": customer.potential,
        "language": customer.language,
        "programme": segment.programme if segment else None,
        "abc_class": segment.abc_class if segment else None,
        "revenue_12m": str(segment.revenue_12m.quantize(Decimal("0.01"))) if segment else "0.00",
        "currency": base_currency,
        "segment_as_of": segment.run.as_of.isoformat() if segment else None,
        "contacts": [_contact_dict(c) for c in customer.contacts],
        **answers.as_dict(),
        "churn_risk": churn[1].risk if churn else None,  # 0-100; None: not scored (inactive)
        "churn_reasons": list(churn[1].reasons) if churn else [],
        "churn_as_of": churn[0].as_of.isoformat() if churn else None,
    }


def _contact_dict(contact: Contact) -> dict:
    return {
        "name": contact.name,
        "email": contact.email,
        "language": contact.language,
        "status": contact.status,
    }
