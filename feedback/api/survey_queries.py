"""Surveys and waves as the API reads them: plain queries, plain dicts, a fixed number of
statements per page (a page's wave counts come from one grouped query)."""

from __future__ import annotations

from sqlalchemy import case, exists, func, select

from feedback.api.schemas import known_id
from feedback.auth.models import User
from feedback.errors import NotFound
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.surveys.models import Invitation, InvitationEvent, Survey, TemplateVersion, Wave

COUNTS = ("invited", "pending", "delivered", "opened", "answered", "bounced", "failed")


def list_surveys(*, limit: int, key: list | None, template: str | None) -> list[dict]:
    query = select(Survey.id, Survey.name, Survey.template_key, Survey.created_at)
    if key is not None:
        query = query.where(Survey.id > int(key[0]))
    if template is not None:
        query = query.where(Survey.template_key == template)
    rows = db.session.execute(query.order_by(Survey.id).limit(limit + 1)).mappings().all()
    counts = dict(
        db.session.execute(
            select(Wave.survey_id, func.count())
            .where(Wave.survey_id.in_([row["id"] for row in rows]))
            .group_by(Wave.survey_id)
        ).all()
    )
    return [{**row, "wave_count": counts.get(row["id"], 0)} for row in rows]


def get_survey(survey_id: int) -> dict:
    query = select(Survey.id, Survey.name, Survey.template_key, Survey.created_at)
    row = (
        db.session.execute(query.where(Survey.id == known_id(survey_id, "survey")))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"There is no survey {survey_id}.")
    waves = list_waves(limit=10_000, key=None, survey_id=survey_id, status=None)
    return {**row, "wave_count": len(waves), "waves": waves}


def _wave_select():
    return (
        select(
            Wave.id,
            Wave.survey_id,
            Survey.name.label("survey_name"),
            Survey.template_key,
            TemplateVersion.version.label("template_version"),
            Wave.status,
            Wave.audience,
            Wave.reminder_days,
            Wave.send_at,
            Wave.sent_at,
            Wave.closes_at,
            Wave.closed_at,
            Wave.created_at,
        )
        .join(Survey, Survey.id == Wave.survey_id)
        .outerjoin(TemplateVersion, TemplateVersion.id == Wave.template_version_id)
    )


def list_waves(
    *, limit: int, key: list | None, survey_id: int | None, status: str | None
) -> list[dict]:
    query = _wave_select()
    if key is not None:
        query = query.where(Wave.id > int(key[0]))
    if survey_id is not None:
        query = query.where(Wave.survey_id == survey_id)
    if status is not None:
        query = query.where(Wave.status == status)
    rows = db.session.execute(query.order_by(Wave.id).limit(limit + 1)).mappings().all()
    return _with_counts([dict(row) for row in rows])


def get_wave(wave_id: int) -> dict:
    query = _wave_select().where(Wave.id == known_id(wave_id, "wave"))
    row = db.session.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"There is no wave {wave_id}.")
    return _with_counts([dict(row)])[0]


def _with_counts(waves: list[dict]) -> list[dict]:
    """Each wave's invitation counts (the funnel's steps, counted now rather than from the
    dashboard's 15-minute facts) and its audience with owners by e-mail."""
    ids = [wave["id"] for wave in waves]
    counts = {wave_id: dict.fromkeys(COUNTS, 0) for wave_id in ids}
    if ids:
        for wave_id, *values in db.session.execute(_count_select(ids)):
            counts[wave_id] = dict(zip(COUNTS, (int(v or 0) for v in values), strict=True))
    owner_ids = {i for wave in waves for i in (wave["audience"] or {}).get("owner_ids", [])}
    emails = dict(
        db.session.execute(select(User.id, User.email).where(User.id.in_(owner_ids))).all()
    )
    for wave in waves:
        wave["counts"] = counts[wave["id"]]
        wave["audience"] = _audience(wave["audience"] or {}, emails)
        wave["reminder_days"] = [int(d) for d in wave["reminder_days"].split(",") if d.strip()]
    return waves


def _count_select(wave_ids: list[int]):
    """As dashboards/queries/funnel.py counts: delivered (handed over, not bounced or
    failed), opened (an open or click event, or an answer), answered (a response)."""
    answered = Response.id.is_not(None)
    opened = exists().where(
        InvitationEvent.invitation_id == Invitation.id,
        InvitationEvent.kind.in_(("open", "click")),
    )
    sent = Invitation.state.in_(("sent", "delivered"))

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    return (
        select(
            Invitation.wave_id,
            func.count(),
            count(Invitation.state.in_(("pending", "sending"))),
            count(Invitation.state.in_(("sent", "delivered", "answered")) | answered),
            count((Invitation.state == "answered") | answered | (sent & opened)),
            count((Invitation.state == "answered") | answered),
            count(Invitation.state == "bounced"),
            count(Invitation.state == "failed"),
        )
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.wave_id.in_(wave_ids))
        .group_by(Invitation.wave_id)
    )


def _audience(stored: dict, emails: dict[int, str]) -> dict:
    return {
        "classes": stored.get("classes", []),
        "programme": stored.get("programme"),
        "languages": stored.get("languages", []),
        "owners": [emails[i] for i in stored.get("owner_ids", []) if i in emails],
        "customer_count": len(stored.get("customer_ids", [])),
    }
