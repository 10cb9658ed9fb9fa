"""Telling the assignee about a new case: what the customer said and who they are.

Like escalation, the job claims cases with one guarded UPDATE (notified_at IS NULL -> now,
RETURNING the ids), so each case is announced exactly once. A case in a team queue goes to
the team's active members. The mail carries the score and comment, class and 12-month
revenue, the contacts, the deadline and a link to the case.
"""

from __future__ import annotations

import logging
from datetime import datetime

from markupsafe import escape
from sqlalchemy import and_, select, update
from sqlalchemy.orm import aliased

from feedback.auth.models import User
from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import Contact, Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.dbtypes import utcnow
from feedback.delivery.message import DeliveryError, MailContent, OutgoingMessage
from feedback.extensions import db
from feedback.responses.models import Response

log = logging.getLogger(__name__)


def claim_cases(mark, *conditions, now: datetime) -> list[int]:
    """Set a case's once-only timestamp (notified_at, escalated_at) where it is still unset,
    returning the ids this call set: however often or wherever the job runs, once per case."""
    return list(
        db.session.execute(
            update(Case)
            .where(mark.is_(None), *conditions)
            .values({mark.key: now})
            .returning(Case.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )


def release_cases(ids: list[int], *columns) -> None:
    """Clear these columns of these cases: a once-only mark gives a claimed case back to the
    next run; other columns forget what a mail that never left would have used."""
    if ids and columns:
        db.session.execute(
            update(Case)
            .where(Case.id.in_(ids))
            .values(dict.fromkeys((column.key for column in columns), None))
            .execution_options(synchronize_session=False)
        )


def deliver_case_mail(backend, mark, messages: dict[int, list[OutgoingMessage]],
                      events: dict[int, tuple[str, str]], *, now: datetime,
                      refused_kind: str | None = None, forget=()) -> int:  # fmt: skip
    """Send the claimed cases' mail (staff or customer) and write each case's history line
    once its mail is out, or at once when it has nobody to mail.

    A case none of whose mails left for a reason that may pass (backend down, rate limit) is
    released for the next run (`mark` cleared) rather than lost. A permanent refusal (bad
    address) is written down: as a `refused_kind` event, with the `forget` columns cleared,
    when nothing left; as a note on the case's line when some of its mails did. Commits;
    returns the number of cases whose mail went out."""
    flat = [message for batch in messages.values() for message in batch]
    try:
        results = backend.send(flat) if flat else []
    except DeliveryError as exc:
        release_cases(list(messages), mark)
        db.session.commit()
        log.warning("case mail not sent; %s cases left for the next run: %s", len(messages), exc)
        return 0
    outcome: dict[int, list] = {}
    for result in results:
        outcome.setdefault(result.invitation_id, []).append(result)
    sent, retry, refused_cases = 0, [], []
    for case_id, (kind, detail) in events.items():
        if not messages.get(case_id):
            db.session.add(CaseEvent(case_id=case_id, kind=kind, detail=detail, at=now))
            continue
        mine = outcome.get(case_id, [])
        if not any(r.ok or r.permanent for r in mine):
            retry.append(case_id)
            continue
        refused = [r.detail for r in mine if not r.ok]
        if refused_kind and not any(r.ok for r in mine):
            to = ", ".join(m.to_email for m in messages[case_id])
            kind, detail, note = refused_kind, f"The e-mail to {to} was refused: {refused[0]}", ""
            refused_cases.append(case_id)
        else:
            note = f" ({len(refused)} refused: {refused[0]})" if refused else ""
        db.session.add(CaseEvent(case_id=case_id, kind=kind, detail=f"{detail}{note}"[:2000],
                                 at=now))  # fmt: skip
        sent += any(r.ok for r in mine)
    release_cases(retry, mark)
    release_cases(refused_cases, *forget)
    db.session.commit()
    return sent


def notify_new_cases(config, backend, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    ids = claim_cases(Case.notified_at, now=now)
    if not ids:
        db.session.commit()
        return 0
    segment = and_(
        CustomerSegment.customer_id == Customer.id, CustomerSegment.run_id == latest_run_id()
    )
    assignee = aliased(User)
    rows = db.session.execute(
        select(Case, Customer, Response.score, Response.comment, CustomerSegment, assignee)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .outerjoin(Response, Response.id == Case.response_id)
        .outerjoin(CustomerSegment, segment)
        .where(Case.id.in_(ids))
    ).all()
    contacts: dict[int, list[Contact]] = {}
    for contact in db.session.scalars(
        select(Contact).where(Contact.customer_id.in_({r[1].id for r in rows}))
    ):
        contacts.setdefault(contact.customer_id, []).append(contact)
    team_members: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(User.active.is_(True))):
        if user.team_id is not None:
            team_members.setdefault(user.team_id, []).append(user)
    messages: dict[int, list[OutgoingMessage]] = {}
    events: dict[int, tuple[str, str]] = {}
    for case, customer, score, comment, segment_row, person in rows:
        if person is not None:
            recipients = [person] if person.active else []
        else:
            recipients = team_members.get(case.team_id, [])
        messages[case.id] = [
            _message(config, case, user, customer, score, comment or "", segment_row,
                     contacts.get(customer.id, []))
            for user in recipients
        ]  # fmt: skip
        names = ", ".join(user.display_name for user in recipients)
        events[case.id] = (
            "notified",
            f"Announced by e-mail to {names}" if names else "Nobody to announce it to by e-mail",
        )
    db.session.commit()  # the claim stands before any mail leaves
    deliver_case_mail(backend, Case.notified_at, messages, events, now=now)
    return len(ids)


def _message(config, case, user, customer, score, comment, segment, contacts):
    link = f"{config['FEEDBACK_BASE_URL']}/cases/{case.id}"
    klass = f"class {segment.abc_class}, {segment.programme}" if segment else "class not computed"
    revenue = (
        f"{segment.revenue_12m:,.0f} {config.get('FEEDBACK_BASE_CURRENCY', 'EUR')}"
        if segment
        else "unknown"
    )
    people = [f"{c.name} <{c.email}>" for c in contacts if c.status == "active"]
    lines = [
        f"{case.title}",
        f"Customer: {customer.name} ({customer.external_id}), {klass}, 12-month revenue {revenue}",
        f"Score: {score if score is not None else '-'}",
        f"Comment: {comment or '(none)'}",
        f"Contacts: {', '.join(people) or '(none active)'}",
        f"Due: {case.due_at:%Y-%m-%d %H:%M} UTC · priority {case.priority}",
        "",
        link,
    ]
    html = "".join(f"<p>{escape(line)}</p>" for line in lines[:-2]) + (
        f'<p><a href="{escape(link)}">Open the case</a></p>'
    )
    return OutgoingMessage(
        invitation_id=case.id,
        to_email=user.email,
        to_name=user.display_name,
        content=MailContent(
            subject=f"New case: {case.title} – {customer.name}",
            html=html,
            text="\n".join(lines) + "\n",
            language="en",
        ),
        kind="case",
    )
