"""Everything the case page shows, so the person can call the customer prepared: the answer
with its analysis, the customer's class, revenue, contacts and owner, their earlier answers
and cases, and the case's history. A fixed handful of statements per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from feedback.analysis.sentiment import Sentiment, analyse_sentiment
from feedback.analysis.themes import tag_themes
from feedback.auth.models import Team, User
from feedback.cases.models import Case, CaseEvent
from feedback.customers.models import Contact, CustomerSegment
from feedback.customers.services import current_segment
from feedback.extensions import db
from feedback.responses.models import Answer, Response
from feedback.responses.services import pinned_template
from feedback.risk.queries import latest_score
from feedback.surveys.models import Invitation, Survey, TemplateVersion, Wave
from feedback.surveys.templates import render

HISTORY = 10  # earlier answers and cases shown


@dataclass(frozen=True)
class AnswerLine:
    question: str
    score: int
    scale: tuple[int, int] | None


@dataclass(frozen=True)
class EarlierAnswer:
    response_id: int
    answered_at: datetime
    survey: str
    score: int | None
    csi: float | None
    comment: str


@dataclass
class CaseDetail:
    case: Case
    response: Response | None
    survey_name: str | None
    answers: list[AnswerLine]
    sentiment: Sentiment | None
    themes: list[str]
    answered_by: Contact | None
    contacts: list[Contact]
    segment: CustomerSegment | None
    owner: User | None
    earlier_answers: list[EarlierAnswer]
    earlier_cases: list[Case]
    events: list[CaseEvent]
    churn: tuple | None = None  # churn cases: the customer's latest (run, score)


def _answer_lines(response: Response, company: str) -> list[AnswerLine]:
    """Scored answers in the template's order, with the question as the staff reads it."""
    version = db.session.get(TemplateVersion, response.template_version_id)
    template = pinned_template(version.id, version.content_hash)
    scores = dict(
        db.session.execute(
            select(Answer.question_key, Answer.score).where(Answer.response_id == response.id)
        ).all()
    )
    lines = [
        AnswerLine(render(q.text.get("en", q.key), company=company), scores.pop(q.key), q.scale)
        for q in template.questions
        if q.key in scores
    ]
    return lines + [AnswerLine(key, score, None) for key, score in sorted(scores.items())]


def case_detail(case: Case) -> CaseDetail:
    response = survey_name = answered_by = None
    answers: list[AnswerLine] = []
    sentiment = None
    themes: list[str] = []
    if case.response_id is not None:
        row = db.session.execute(
            select(Response, Survey.name, Contact)
            .join(Wave, Wave.id == Response.wave_id)
            .join(Survey, Survey.id == Wave.survey_id)
            .join(Invitation, Invitation.id == Response.invitation_id)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(Response.id == case.response_id)
        ).one_or_none()
        if row is not None:
            response, survey_name, answered_by = row
            answers = _answer_lines(response, case.customer.name)
            comment = (response.comment or "").strip()
            if comment:
                sentiment = analyse_sentiment(comment, response.language)
                themes = list(tag_themes(comment, response.language))
    customer_id = case.customer_id
    contacts = list(
        db.session.scalars(
            select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.name)
        )
    )
    owner = db.session.get(User, case.customer.owner_id) if case.customer.owner_id else None
    earlier = db.session.execute(
        select(Response.id, Response.answered_at, Survey.name, Response.score, Response.csi,
               Response.comment)
        .join(Wave, Wave.id == Response.wave_id)
        .join(Survey, Survey.id == Wave.survey_id)
        .where(Response.customer_id == customer_id, Response.id != (case.response_id or 0))
        .order_by(Response.answered_at.desc())
        .limit(HISTORY)
    ).all()  # fmt: skip
    earlier_cases = list(
        db.session.scalars(
            select(Case)
            .where(Case.customer_id == customer_id, Case.id != case.id)
            .order_by(Case.created_at.desc())
            .limit(HISTORY)
        )
    )
    events = list(
        db.session.scalars(
            select(CaseEvent)
            .options(joinedload(CaseEvent.actor))
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    )
    return CaseDetail(
        case=case,
        response=response,
        survey_name=survey_name,
        answers=answers,
        sentiment=sentiment,
        themes=themes,
        answered_by=answered_by,
        contacts=contacts,
        segment=current_segment(customer_id),
        owner=owner,
        earlier_answers=[EarlierAnswer(*row) for row in earlier],
        earlier_cases=earlier_cases,
        events=events,
        churn=latest_score(customer_id) if case.kind == "churn_risk" else None,
    )


def assignable_people() -> list[User]:
    """Active staff, by team then name, for the reassign list."""
    return list(
        db.session.scalars(
            select(User)
            .options(joinedload(User.team))
            .outerjoin(Team, Team.id == User.team_id)
            .where(User.active.is_(True))
            .order_by(Team.name, User.name, User.email)
        )
    )


def teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))
