"""Escalating breached cases: past their deadline and still open, once each.

The job claims breached cases with notify.claim_cases (escalated_at IS NULL -> now), so a
case is escalated exactly once however often, or in how many workers, the job runs. Each
escalation is written to the case's history and mailed to the managers of the case's team
(all managers when the team has none) through the configured delivery backend.
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import escape
from sqlalchemy import select

from feedback.auth.models import Team, User
from feedback.cases.announce import announce_cases
from feedback.cases.models import OPEN_STATUSES, Case
from feedback.cases.notify import claim_cases, deliver_case_mail
from feedback.customers.models import Customer
from feedback.dbtypes import utcnow
from feedback.delivery.message import MailContent, OutgoingMessage
from feedback.extensions import db


def escalate_breached(config, backend, *, now: datetime | None = None) -> int:
    """Escalate every open case past its deadline that was not escalated yet; commits."""
    now = now or utcnow()
    ids = claim_cases(Case.escalated_at, Case.status.in_(OPEN_STATUSES), Case.due_at < now, now=now)
    if not ids:
        db.session.commit()
        return 0
    rows = db.session.execute(
        select(Case, Customer.name, Customer.external_id, User.email, Team.name)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .where(Case.id.in_(ids))
    ).all()
    managers = _managers()
    messages: dict[int, list] = {}
    events: dict[int, tuple[str, str]] = {}
    for case, customer, external_id, assignee, team in rows:
        recipients = managers.get(case.team_id) or managers.get(None, [])
        names = ", ".join(m.display_name for m in recipients) or "no manager on file"
        events[case.id] = ("escalated", f"Past its deadline; escalated to {names}")
        messages[case.id] = [
            _message(config, case, manager, customer, external_id, assignee or team or "the queue")
            for manager in recipients
        ]
    announce_cases("case.breached", ids, now=now)  # committed with the claim: once per case
    db.session.commit()  # the claim stands before any mail leaves
    deliver_case_mail(backend, Case.escalated_at, messages, events, now=now)
    return len(ids)


def _managers() -> dict[int | None, list[User]]:
    """team id -> its active managers; None -> every active manager (the fallback)."""
    found: dict[int | None, list[User]] = {None: []}
    for user in db.session.scalars(
        select(User).where(User.role == "manager", User.active.is_(True)).order_by(User.id)
    ):
        found.setdefault(user.team_id, []).append(user)
        found[None].append(user)
    return found


def _message(config, case: Case, manager: User, customer: str, external_id: str, holder: str):
    link = f"{config['FEEDBACK_BASE_URL']}/cases/{case.id}"
    subject = f"Overdue: {case.title} – {customer}"
    text = (
        f"Case #{case.id} for {customer} ({external_id}) was due {case.due_at:%Y-%m-%d %H:%M} "
        f"UTC and is still {case.status.replace('_', ' ')}.\n"
        f"It is with {holder}. Priority: {case.priority}.\n\n{link}\n"
    )
    html = (
        f"<p>Case #{case.id} for <strong>{escape(customer)}</strong> ({escape(external_id)}) "
        f"was due {case.due_at:%Y-%m-%d %H:%M} UTC and is still "
        f"{escape(case.status.replace('_', ' '))}.</p><p>It is with {escape(holder)}. "
        f'Priority: {escape(case.priority)}.</p><p><a href="{escape(link)}">Open the case</a></p>'
    )
    return OutgoingMessage(
        invitation_id=case.id,  # the backends' result key: here a case id (kind="case")
        to_email=manager.email,
        to_name=manager.display_name,
        content=MailContent(subject=subject, html=html, text=text, language="en"),
        kind="case",
    )
