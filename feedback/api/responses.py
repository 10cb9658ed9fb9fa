"""/api/v1/responses: customers' answers with every scored question, the comment and what
it says (sentiment, themes), the customer, the contact who answered, and the wave.

The contact's e-mail is included: a CRM files an answer under the person by e-mail, and a
read token can already list contacts with their e-mails (/api/v1/contacts), so leaving it
out here would only cost the client one call per answer.
"""

from __future__ import annotations

import marshmallow as ma

from feedback.api import response_queries as queries
from feedback.api.pagination import decode_cursor, listed
from feedback.api.schemas import CustomerRef, Problem, Text, UpdatedSinceArgs, id_field, page_schema
from feedback.problems import PROBLEM_MIMETYPE


def blueprints():
    from feedback.api import make_blueprint

    responses = make_blueprint(
        "responses", "/responses", "Customers' answers, with the comment's sentiment and themes."
    )
    _routes(responses)
    return (responses,)


class SentimentSchema(ma.Schema):
    score = ma.fields.Float(required=True, metadata={"description": "-1 (negative) to 1"})
    label = ma.fields.String(required=True, metadata={"description": "negative|neutral|positive"})


class ContactRef(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    language = ma.fields.String(required=True)


class ResponseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    score = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "the main question: NPS 0-10"}
    )
    csi = ma.fields.Float(allow_none=True, required=True, metadata={"description": "0-100"})
    answers = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
        metadata={"description": "every scored question: its key -> the score given"},
    )  # fmt: skip
    comment = ma.fields.String(required=True)
    language = ma.fields.String(required=True, metadata={"description": "en|da|sv|nb"})
    sentiment = ma.fields.Nested(
        SentimentSchema,
        allow_none=True,
        required=True,
        metadata={"description": "null: none"},
    )
    themes = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "theme keys (themes.yaml)"}
    )
    customer = ma.fields.Nested(CustomerRef, required=True)
    contact = ma.fields.Nested(ContactRef, required=True, metadata={"description": "who answered"})
    survey_id = ma.fields.Integer(required=True)
    wave_id = ma.fields.Integer(required=True)
    template_key = ma.fields.String(required=True)
    template_version = ma.fields.Integer(required=True)
    answered_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class ResponseArgs(UpdatedSinceArgs):
    survey = id_field("a survey's id")
    wave = id_field("a wave's id")
    customer = Text(metadata={"description": "a customer's external_id"})
    template = Text(metadata={"description": "a template key, e.g. nps"})


ResponsePage = page_schema(ResponseSchema, "ResponsePage")


def _routes(bp) -> None:
    @bp.get("")
    @bp.arguments(ResponseArgs, location="query")
    @bp.response(200, ResponsePage)
    def list_responses(args):
        """Responses, by last change: sync with updated_since and the cursor"""
        key = decode_cursor("responses", args.get("cursor"))
        rows = queries.list_responses(
            limit=args["limit"], key=key, updated_since=args.get("updated_since"),
            survey_id=args.get("survey"), wave_id=args.get("wave"),
            customer=args.get("customer"), template=args.get("template"),
        )  # fmt: skip
        return listed(rows, args["limit"], "responses", queries.response_key, ResponsePage)

    @bp.get("/<int:response_id>")
    @bp.response(200, ResponseSchema)
    @bp.alt_response(404, schema=Problem, content_type=PROBLEM_MIMETYPE)
    def get_response(response_id):
        """One response"""
        return queries.get_response(response_id)
