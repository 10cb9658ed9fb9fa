"""Recording a customer's answers: exactly one response per invitation, however many
submissions arrive and however simultaneously.

The first submission inserts the response (INSERT ... ON CONFLICT DO NOTHING on the unique
invitation_id); every later one, until the wave closes, updates it. Answers per question are
upserted the same way, so a repeated or concurrent submission never duplicates anything.
Plain functions: the public pages and the tests call them directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select, update

from feedback.dbtypes import upsert_insert, utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.responses.announce import announce_response
from feedback.responses.models import Answer, Response
from feedback.surveys.models import Invitation, InvitationEvent, TemplateVersion, Wave
from feedback.surveys.templates import SurveyTemplate

MAX_COMMENT = 5000
PRIMARY = ""  # key in `scores` for "the survey's main question", whatever its key
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class SurveyClosed(DomainError):
    """The wave has closed; the answer can no longer be given or changed."""


class BadAnswer(DomainError):
    """A submitted value the survey cannot take (400)."""


@dataclass
class OpenSurvey:
    invitation: Invitation
    wave: Wave
    template: SurveyTemplate
    response: Response | None

    @property
    def language(self) -> str:
        return self.invitation.language

    def answers(self) -> dict[str, int]:
        if self.response is None:
            return {}
        return {a.question_key: a.score for a in self.response.answers}


def find_invitation(token: str) -> Invitation:
    if not _TOKEN.match(token or ""):
        raise NotFound("no survey behind this link")
    invitation = db.session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None:
        raise NotFound("no survey behind this link")
    return invitation


def open_survey(token: str) -> OpenSurvey:
    """The invitation, its wave, pinned template and current response (closed or not)."""
    invitation = find_invitation(token)
    wave = invitation.wave
    version = db.session.get(TemplateVersion, wave.template_version_id)
    response = db.session.scalar(select(Response).where(Response.invitation_id == invitation.id))
    return OpenSurvey(invitation, wave, pinned_template(version.id, version.content_hash), response)


def is_closed(wave: Wave, now: datetime) -> bool:
    return _closed(wave.status, wave.closes_at, now)


def _closed(status: str, closes_at: datetime | None, now: datetime) -> bool:
    return status == "closed" or (closes_at is not None and closes_at <= now)


def parse_scores(template: SurveyTemplate, raw: dict[str, str]) -> dict[str, int]:
    """Form values -> {question key: score}; every value checked against its question's scale."""
    scores = {}
    for key, value in raw.items():
        question = next((q for q in template.questions if q.key == key), None)
        if question is None or question.scale is None:
            raise BadAnswer(f"the survey has no scored question {key!r}")
        low, high = question.scale
        text = (value or "").strip()
        if not text:
            continue
        if not re.fullmatch(r"-?\d{1,3}", text):
            raise BadAnswer(f"the score must be a whole number from {low} to {high}")
        number = int(text)
        if not low <= number <= high:
            raise BadAnswer(f"the score must be a whole number from {low} to {high}")
        scores[key] = number
    return scores


def clean_comment(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.replace("\r\n", "\n").strip()
    if "\x00" in text or "\ufffd" in text:
        raise BadAnswer("the comment contains characters that could not be read")
    if len(text) > MAX_COMMENT:
        raise BadAnswer(f"the comment is longer than {MAX_COMMENT} characters")
    return text


@dataclass(frozen=True)
class _Target:
    """What saving needs to know about an invitation, read in one query."""

    invitation_id: int
    customer_id: int
    language: str
    wave_id: int
    wave_status: str
    closes_at: datetime
    template_version_id: int
    template_hash: str
    # What the response held before this submission (None: no response yet), to tell a
    # changed answer (response.updated) from a repeated one.
    before: tuple | None


def _target(token: str) -> _Target:
    if not _TOKEN.match(token or ""):
        raise NotFound("no survey behind this link")
    row = db.session.execute(
        select(
            Invitation.id, Invitation.customer_id, Invitation.language, Wave.id, Wave.status,
            Wave.closes_at, Wave.template_version_id, TemplateVersion.content_hash,
            Response.id, Response.score, Response.csi, Response.comment,
        )
        .join(Wave, Wave.id == Invitation.wave_id)
        .join(TemplateVersion, TemplateVersion.id == Wave.template_version_id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.token == token)
    ).one_or_none()  # fmt: skip
    if row is None:
        raise NotFound("no survey behind this link")
    before = None if row[8] is None else tuple(row[9:])
    return _Target(*row[:8], before=before)


@lru_cache(maxsize=128)
def pinned_template(version_id: int, content_hash: str) -> SurveyTemplate:
    """A stored template version never changes, so each process parses it once (keyed by
    its hash too, so a database rebuilt with other versions under the same ids is safe)."""
    return SurveyTemplate.from_content(db.session.get(TemplateVersion, version_id).content)


def save_answers(
    token: str,
    *,
    scores: dict[str, str],
    comment: str | None = None,
    now: datetime | None = None,
) -> SavedAnswer:
    """Record (or change) answers. `comment=None` leaves a stored comment as it is.

    A handful of statements whatever happens: the invitation and wave in one read, the
    response upserted (RETURNING its id), the answers upserted, the response updated."""
    now = now or utcnow()
    target = _target(token)
    if _closed(target.wave_status, target.closes_at, now):
        raise SurveyClosed("this survey has closed")
    template = pinned_template(target.template_version_id, target.template_hash)
    if PRIMARY in scores:
        scores = {**scores, template.primary.key: scores[PRIMARY]}
        del scores[PRIMARY]
    parsed = parse_scores(template, scores)
    comment = clean_comment(comment)
    if not parsed and comment is None:
        raise BadAnswer("nothing to save: choose a score or write a comment")
    response_id = _upsert_response(target, now)
    if parsed:
        _upsert_answers(response_id, parsed)
    values: dict = {"updated_at": now}
    if template.primary.key in parsed:
        values["score"] = parsed[template.primary.key]
    if any(q.csi for q in template.questions if q.key in parsed):
        answers = dict(
            db.session.execute(
                select(Answer.question_key, Answer.score).where(Answer.response_id == response_id)
            ).all()
        )
        values["csi"] = template.csi_index(answers)
    if comment is not None:
        values["comment"] = comment
    after = tuple(
        db.session.execute(
            update(Response)
            .where(Response.id == response_id)
            .values(**values)
            .returning(Response.score, Response.csi, Response.comment)
            .execution_options(synchronize_session=False)
        ).one()
    )
    if _mark_answered(target.invitation_id, now):
        announce_response("response.created", response_id, now=now)
    elif after != target.before:
        announce_response("response.updated", response_id, now=now)
    return SavedAnswer(response_id=response_id, score=after[0])


@dataclass(frozen=True)
class SavedAnswer:
    response_id: int
    score: int | None


def _upsert_response(target: _Target, now: datetime) -> int:
    """Insert the invitation's response, or touch the one there: its id either way."""
    statement = upsert_insert(Response.__table__).values(
        invitation_id=target.invitation_id,
        wave_id=target.wave_id,
        customer_id=target.customer_id,
        template_version_id=target.template_version_id,
        comment="",
        language=target.language,
        answered_at=now,
        updated_at=now,
    )
    return db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["invitation_id"], set_={"updated_at": statement.excluded.updated_at}
        ).returning(Response.__table__.c.id)
    ).scalar_one()


def _upsert_answers(response_id: int, scores: dict[str, int]) -> None:
    statement = upsert_insert(Answer.__table__).values(
        [{"response_id": response_id, "question_key": k, "score": v} for k, v in scores.items()]
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["response_id", "question_key"],
            set_={"score": statement.excluded.score},
        )
    )


def _mark_answered(invitation_id: int, now: datetime) -> bool:
    """Mark the invitation answered; True the first time (this submission created the answer)."""
    first = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.answered_at.is_(None))
        .values(state="answered", answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if first:
        db.session.add(InvitationEvent(invitation_id=invitation_id, kind="answered", at=now))
    return bool(first)


def unsubscribe(token: str, *, now: datetime | None = None) -> bool:
    """Opt the invitation's contact out of all surveys; False if it already was."""
    from feedback.customers.announce import announce_opt_outs
    from feedback.customers.models import Contact

    now = now or utcnow()
    invitation = find_invitation(token)
    changed = db.session.execute(
        update(Contact)
        .where(Contact.id == invitation.contact_id, Contact.status != "opted_out")
        .values(status="opted_out", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        db.session.add(InvitationEvent(invitation_id=invitation.id, kind="unsubscribed", at=now))
        announce_opt_outs([invitation.contact_id], source="unsubscribe_page", now=now)
    db.session.flush()
    return bool(changed)
