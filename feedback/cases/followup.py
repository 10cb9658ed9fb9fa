"""The customer's answer to "did we solve it?": the public page behind /f/<token>.

customer_mail sends the question with Yes / No links; cases.public shows the page, which
posts the answer (a GET records nothing, as mail scanners open links). The answer can be
changed while the links work; a "no" reopens a resolved case with a fresh deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.surveys.models import Invitation

ANSWER_WINDOW = timedelta(days=30)  # the follow-up's links work this long after sending
CHOICES = {"yes": True, "no": False}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class BadChoice(DomainError):
    """The answer to "is the problem solved?" is neither yes nor no (400)."""


class FollowupClosed(DomainError):
    """The follow-up's answering window has passed (410)."""

    def __init__(self, followup: Followup) -> None:
        super().__init__("answers to this question are no longer accepted")
        self.followup = followup


@dataclass(frozen=True)
class Followup:
    """What the public page needs to know about one follow-up question."""

    case_id: int
    token: str
    language: str
    solved: bool | None  # the answer given so far
    open_until: datetime


@dataclass(frozen=True)
class Answered:
    solved: bool
    changed: bool  # False: the same answer again (a reload), nothing recorded
    reopened: bool


def parse_choice(raw) -> bool:
    if not isinstance(raw, str) or raw.strip().lower() not in CHOICES:
        raise BadChoice("the answer must be yes or no")
    return CHOICES[raw.strip().lower()]


def open_followup(token: str, *, now: datetime | None = None) -> Followup:
    """The follow-up behind a link: NotFound for an unknown (or never sent) one,
    FollowupClosed once the answering window has passed."""
    now = now or utcnow()
    if not _TOKEN.match(token or ""):
        raise NotFound("no question behind this link")
    row = db.session.execute(
        select(Case.id, Case.followup_solved, Case.followup_sent_at, Contact.language)
        .outerjoin(Response, Response.id == Case.response_id)
        .outerjoin(Invitation, Invitation.id == Response.invitation_id)
        .outerjoin(Contact, Contact.id == Invitation.contact_id)
        .where(Case.followup_token == token)
    ).one_or_none()
    if row is None or row.followup_sent_at is None:  # a token nobody was sent is not a link
        raise NotFound("no question behind this link")
    followup = Followup(
        row.id, token, row.language or "en", row.followup_solved,
        row.followup_sent_at + ANSWER_WINDOW,
    )  # fmt: skip
    if now >= followup.open_until:
        raise FollowupClosed(followup)
    return followup


def answer_followup(token: str, choice, *, now: datetime | None = None) -> Answered:
    """Record (or change) the customer's yes / no. A "no" reopens a resolved case with a
    fresh deadline as long as the rule first gave, so its owner has time to act. Flushes."""
    now = now or utcnow()
    followup = open_followup(token, now=now)
    solved = parse_choice(choice)
    # Guarded: a repeated or simultaneous identical answer changes and records nothing.
    changed = db.session.execute(
        update(Case)
        .where(
            Case.id == followup.case_id,
            or_(Case.followup_solved.is_(None), Case.followup_solved != solved),
        )
        .values(followup_solved=solved, followup_answered_at=now, updated_at=now)
        .returning(Case.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if changed is None:
        return Answered(solved, changed=False, reopened=False)
    reopened = False
    detail = "Customer says the problem is solved"
    if not solved:
        case = db.session.get(Case, followup.case_id)
        due = max(case.due_at, now + max(case.due_at - case.created_at, timedelta(hours=1)))
        reopened = (
            db.session.execute(
                update(Case)
                .where(Case.id == case.id, Case.status == "resolved")
                .values(status="in_progress", closed_at=None, due_at=due)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
        detail = "Customer says the problem is not solved" + (
            f"; reopened (resolved → in_progress), new deadline {due:%Y-%m-%d %H:%M} UTC"
            if reopened
            else ""
        )
    db.session.add(CaseEvent(case_id=followup.case_id, kind="followup", detail=detail, at=now))
    db.session.flush()
    db.session.expire_all()  # the guarded UPDATEs bypassed the identity map
    return Answered(solved, changed=True, reopened=reopened)
