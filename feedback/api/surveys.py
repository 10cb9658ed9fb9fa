"""/api/v1/surveys and /waves: read them, create a draft wave, send it.

Creating and sending go through the services behind the staff pages and `feedback waves
create|send` (feedback.surveys), so the audience, reminder and state rules are theirs. A
token acting for a person creates and sends as that person, who must be a manager or admin,
as on the pages; a token acting for nobody creates waves as the CLI does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from flask import current_app, g, url_for
from flask_smorest import abort

from feedback.api import survey_queries as queries
from feedback.api.idempotency import write
from feedback.api.pagination import decode_cursor, listed
from feedback.api.schemas import (
    EARLIEST_MOMENT,
    ListArgs,
    Text,
    id_field,
    known_id,
    page_schema,
    problem_responses,
)
from feedback.auth.decorators import user_has_role
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.surveys import dispatch, services
from feedback.surveys.models import WAVE_STATUSES, Survey
from feedback.surveys.templates import load_templates

LATEST_SEND_AT = datetime(2100, 1, 1, tzinfo=UTC)  # beyond it, a typo, not a plan


def blueprints():
    from feedback.api import make_blueprint

    surveys = make_blueprint("surveys", "/surveys", "Surveys: a template with a name.")
    waves = make_blueprint("waves", "/waves", "Waves: one sending of a survey to an audience.")
    _survey_routes(surveys)
    _wave_routes(waves)
    return surveys, waves


# --- schemas ------------------------------------------------------------------------------


class WaveCounts(ma.Schema):
    invited = ma.fields.Integer(required=True, metadata={"description": "invitations made"})
    pending = ma.fields.Integer(required=True, metadata={"description": "not yet handed over"})
    delivered = ma.fields.Integer(required=True, metadata={"description": "not bounced/failed"})
    opened = ma.fields.Integer(required=True, metadata={"description": "an open, click or answer"})
    answered = ma.fields.Integer(required=True)
    bounced = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)


class AudienceSchema(ma.Schema):
    classes = ma.fields.List(ma.fields.String(), required=True)
    programme = ma.fields.String(allow_none=True, required=True)
    languages = ma.fields.List(ma.fields.String(), required=True)
    owners = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "e-mails"})
    customer_count = ma.fields.Integer(
        required=True, metadata={"description": "customers chosen by number (0: no such limit)"}
    )


class WaveSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    survey_id = ma.fields.Integer(required=True)
    survey_name = ma.fields.String(required=True)
    template_key = ma.fields.String(required=True)
    template_version = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "pinned when sent"}
    )
    status = ma.fields.String(required=True, metadata={"description": "|".join(WAVE_STATUSES)})
    audience = ma.fields.Nested(AudienceSchema, required=True)
    reminder_days = ma.fields.List(ma.fields.Integer(), required=True)
    send_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    sent_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    closes_at = ma.fields.AwareDateTime(required=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    counts = ma.fields.Nested(WaveCounts, required=True)


class SurveySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    template_key = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    wave_count = ma.fields.Integer(required=True)


class SurveyDetail(SurveySchema):
    waves = ma.fields.List(ma.fields.Nested(WaveSchema), required=True)


class SurveyArgs(ListArgs):
    template = Text(metadata={"description": "a template key, e.g. nps"})


class WaveArgs(ListArgs):
    survey = id_field("a survey's id")
    status = ma.fields.String(validate=ma.validate.OneOf(WAVE_STATUSES))


class NewWave(ma.Schema):
    """A draft wave, as on the staff page's form or `feedback waves create`."""

    classes = ma.fields.List(
        Text(), load_default=list, metadata={"description": "ABC classes: A, B, C, D"}
    )
    programme = Text(allow_none=True, load_default=None, metadata={"description": "grow|retain"})
    languages = ma.fields.List(
        Text(), load_default=list, metadata={"description": "en, da, sv, nb"}
    )
    owners = ma.fields.List(Text(), load_default=list, metadata={"description": "owners' e-mails"})
    customer_external_ids = ma.fields.List(
        Text(), load_default=list, validate=ma.validate.Length(max=10_000),
        metadata={"description": "only these customers (the ERP's numbers)"},
    )  # fmt: skip
    send_at = ma.fields.AwareDateTime(
        allow_none=True, load_default=None,
        validate=ma.validate.Range(EARLIEST_MOMENT, LATEST_SEND_AT),
        metadata={"description": "when to send (with zone); null: when /send is called"},
    )  # fmt: skip
    reminder_days = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(1, 365)), load_default=[3, 7],
        metadata={"description": "days after sending, increasing; [] for none"},
    )  # fmt: skip
    close_after_days = ma.fields.Integer(
        load_default=services.DEFAULT_CLOSE_AFTER_DAYS, validate=ma.validate.Range(1, 365)
    )


SurveyPage = page_schema(SurveySchema, "SurveyPage")
WavePage = page_schema(WaveSchema, "WavePage")


# --- routes -------------------------------------------------------------------------------


def _acting_manager():
    """The person the token acts for, who must be allowed the survey pages; None for a
    token acting for nobody (it works as the CLI does)."""
    person = g.api_token.acts_as
    if person is not None and not user_has_role(person, "manager"):
        abort(403, message=f"This token acts for {person.email}, who is not a manager; "
                           "only managers and admins create and send waves.")  # fmt: skip
    return person


def _survey_routes(bp) -> None:
    @bp.get("")
    @bp.arguments(SurveyArgs, location="query")
    @bp.response(200, SurveyPage)
    def list_surveys(args):
        """Surveys, oldest first"""
        key = decode_cursor("surveys", args.get("cursor"))
        rows = queries.list_surveys(limit=args["limit"], key=key, template=args.get("template"))
        return listed(rows, args["limit"], "surveys", lambda row: [row["id"]], SurveyPage)

    @bp.get("/<int:survey_id>")
    @bp.response(200, SurveyDetail)
    @problem_responses(bp, 404)
    def get_survey(survey_id):
        """One survey with its waves and their counts"""
        return queries.get_survey(survey_id)

    @bp.post("/<int:survey_id>/waves")
    @write
    @bp.arguments(NewWave)
    @bp.response(201, WaveSchema)
    @problem_responses(bp, 403, 404)
    def create_wave(body, survey_id):
        """Create a draft wave (write scope); send it with POST /waves/{id}/send"""
        person = _acting_manager()
        survey = db.session.get(Survey, known_id(survey_id, "survey"))
        if survey is None:
            raise NotFound(f"There is no survey {survey_id}.")
        audience = services.build_audience(
            classes=body["classes"], programme=body["programme"], languages=body["languages"],
            owner_ids=services.owner_ids_by_email(body["owners"]),
            customer_external_ids=body["customer_external_ids"],
        )  # fmt: skip
        wave = services.create_wave(
            survey, audience=audience, actor=person, send_at=body["send_at"],
            reminder_days=body["reminder_days"], close_after_days=body["close_after_days"],
        )  # fmt: skip
        location = url_for("api_waves.get_wave", wave_id=wave.id, _external=True)
        return queries.get_wave(wave.id), 201, {"Location": location}


def _wave_routes(bp) -> None:
    @bp.get("")
    @bp.arguments(WaveArgs, location="query")
    @bp.response(200, WavePage)
    def list_waves(args):
        """Waves, oldest first, with their counts"""
        key = decode_cursor("waves", args.get("cursor"))
        rows = queries.list_waves(
            limit=args["limit"], key=key, survey_id=args.get("survey"), status=args.get("status")
        )
        return listed(rows, args["limit"], "waves", lambda row: [row["id"]], WavePage)

    @bp.get("/<int:wave_id>")
    @bp.response(200, WaveSchema)
    @problem_responses(bp, 404)
    def get_wave(wave_id):
        """One wave: status, dates, and invited, delivered, opened and answered counts"""
        return queries.get_wave(wave_id)

    @bp.post("/<int:wave_id>/send")
    @write
    @bp.response(200, WaveSchema)
    @problem_responses(bp, 403, 404, 409)
    def send_wave(wave_id):
        """Send a draft wave now, or schedule it if its send time lies ahead (write scope)"""
        _acting_manager()
        wave = services.get_wave(known_id(wave_id, "wave"))
        config = current_app.config
        try:
            dispatch.send_or_schedule(
                wave, templates=load_templates(config["FEEDBACK_TEMPLATES_DIR"]), now=utcnow(),
                quiet_days=config["FEEDBACK_QUIET_DAYS"],
            )  # fmt: skip
        except DomainError as exc:  # not a draft (any more): the wave's state, not the request
            abort(409, message=str(exc))
        return queries.get_wave(wave_id)
