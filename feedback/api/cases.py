"""/api/v1/cases: list and read cases with their history; change one with PATCH.

One PATCH rather than action endpoints: a CRM holds a case as a record and sends the fields
it changed (status with its outcome, assignee or team, a note), all or nothing in one
transaction. Each change goes through feedback.cases.services as the person the token acts
for (`feedback tokens create NAME --as EMAIL`), so the case page's rules hold: an agent
changes only their own and their team queue's cases. A token acting for nobody reads every
case and changes none.
"""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask_smorest import abort
from sqlalchemy import select

from feedback.api import case_queries as queries
from feedback.api.idempotency import write
from feedback.api.pagination import decode_cursor, listed
from feedback.api.schemas import (
    CustomerRef,
    ListArgs,
    Text,
    known_id,
    moment,
    page_schema,
    problem_responses,
)
from feedback.auth.models import Team, User
from feedback.cases import services
from feedback.cases.models import CASE_STATUSES, CLOSED_STATUSES, PRIORITIES, Case
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db


def blueprints():
    from feedback.api import make_blueprint

    cases = make_blueprint("cases", "/cases", "Cases: a named person acts on an answer in time.")
    _routes(cases)
    return (cases,)


# --- schemas ------------------------------------------------------------------------------


class PersonRef(ma.Schema):
    email = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class CaseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "answer|churn_risk"})
    title = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "|".join(CASE_STATUSES)})
    priority = ma.fields.String(required=True, metadata={"description": "|".join(PRIORITIES)})
    rule_key = ma.fields.String(required=True, metadata={"description": "the routing rule"})
    customer = ma.fields.Nested(CustomerRef, required=True)
    response_id = ma.fields.Integer(allow_none=True, required=True)
    assignee = ma.fields.Nested(PersonRef, allow_none=True, required=True)
    team = ma.fields.String(allow_none=True, required=True)
    themes = ma.fields.List(ma.fields.String(), required=True)
    root_cause = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "a theme"}
    )
    outcome = ma.fields.String(
        required=True, metadata={"description": "what was done, when closed"}
    )
    due_at = ma.fields.AwareDateTime(required=True)
    breached = ma.fields.Boolean(required=True, metadata={"description": "open and past due"})
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    first_action_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    escalated_at = ma.fields.AwareDateTime(allow_none=True, required=True)


class CaseEventSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "created|assigned|status|…"})
    detail = ma.fields.String(required=True)
    at = ma.fields.AwareDateTime(required=True)
    actor_email = ma.fields.String(allow_none=True, required=True)


class CaseDetail(CaseSchema):
    events = ma.fields.List(ma.fields.Nested(CaseEventSchema), required=True,
                            metadata={"description": "the history, oldest first"})  # fmt: skip


class CaseArgs(ListArgs):
    status = Text(
        validate=ma.validate.OneOf(queries.STATUS_FILTERS),
        metadata={"description": "open, closed, any (default) or one status"},
    )
    owner = Text(metadata={"description": "the assignee's e-mail"})
    team = Text(metadata={"description": "a team's name"})
    customer = Text(metadata={"description": "a customer's external_id"})
    breached = ma.fields.Boolean(metadata={"description": "true: open and past due; false: not"})
    opened_since = moment("only cases opened at or after this time (ISO 8601, with zone)")
    updated_since = moment("only cases changed at or after this time (ISO 8601, with zone)")


class CaseChange(ma.Schema):
    """The fields to change; those left out stay as they are."""

    status = Text(validate=ma.validate.OneOf(CASE_STATUSES))
    outcome = Text(
        metadata={"description": "required to close: what was done (resolved) or why not "
                                 "(no_action)"},
    )  # fmt: skip
    root_cause = Text(metadata={"description": "a theme key, set when closing"})
    assignee = Text(metadata={"description": "give the case to this user (e-mail)"})
    team = Text(metadata={"description": "or move it to this team's queue (name)"})
    note = Text(metadata={"description": "a note added to the history"})

    @ma.validates_schema
    def _changes_something(self, data, **_):
        if not data:
            raise ma.ValidationError("send at least one field to change", "_schema")
        if "assignee" in data and "team" in data:
            raise ma.ValidationError("give the case to a person or a team, not both", "team")


CasePage = page_schema(CaseSchema, "CasePage")


# --- routes -------------------------------------------------------------------------------


def _actor() -> User:
    person = g.api_token.acts_as
    if person is None:
        abort(403, message=f"The token {g.api_token.name!r} acts for nobody: it reads cases "
                           "but cannot change them. Create one that acts for a person: "
                           "`feedback tokens create NAME --scopes write --as EMAIL`.")  # fmt: skip
    return person


def _apply(actor: User, case: Case, change: dict) -> None:
    """The changes in the order the page makes them: status (with outcome and root cause),
    then who holds the case, then the note."""
    closing = change.get("status") in CLOSED_STATUSES and change["status"] != case.status
    if ("outcome" in change or "root_cause" in change) and not closing:
        raise DomainError("outcome and root_cause are given when closing a case: send them "
                          "with status resolved or no_action")  # fmt: skip
    if "status" in change:
        services.change_status(actor, case, change["status"], note=change.get("outcome"),
                               root_cause=change.get("root_cause") or None)  # fmt: skip
    if "assignee" in change:
        email = change["assignee"].strip().lower()
        person = db.session.scalar(select(User).where(User.email == email))
        if person is None:
            raise DomainError(f"there is no user {change['assignee'][:254]!r}")
        services.reassign(actor, case, assignee=person)
    if "team" in change:
        team = db.session.scalar(select(Team).where(Team.name == change["team"]))
        if team is None:
            raise DomainError(f"there is no team {change['team'][:120]!r}")
        services.reassign(actor, case, team_id=team.id)
    if "note" in change:
        services.add_comment(actor, case, change["note"])


def _routes(bp) -> None:
    @bp.get("")
    @bp.arguments(CaseArgs, location="query")
    @bp.response(200, CasePage)
    def list_cases(args):
        """Cases, by last change; a token acting for a person sees that person's queue"""
        key = decode_cursor("cases", args.get("cursor"))
        filters = {name: value for name, value in args.items() if name not in ("cursor", "limit")}
        rows = queries.list_cases(g.api_token.acts_as, limit=args["limit"], key=key,
                                  now=utcnow(), filters=filters)  # fmt: skip
        return listed(rows, args["limit"], "cases", queries.case_key, CasePage)

    @bp.get("/<int:case_id>")
    @bp.response(200, CaseDetail)
    @problem_responses(bp, 404)
    def get_case(case_id):
        """One case with its history"""
        return queries.get_case(g.api_token.acts_as, case_id, now=utcnow())

    @bp.patch("/<int:case_id>")
    @write
    @bp.arguments(CaseChange)
    @bp.response(200, CaseDetail)
    @problem_responses(bp, 403, 404)
    def change_case(change, case_id):
        """Change status (with outcome, root cause), assignee or team, or add a note, as
        the person the token acts for (write scope)"""
        actor = _actor()
        case = db.session.get(Case, known_id(case_id, "case"))
        if case is None:
            raise NotFound(f"There is no case {case_id}.")
        try:
            _apply(actor, case, change)
        except services.NotAllowed as refused:
            abort(403, message=f"{actor.email} may not change case {case_id}: {refused}.")
        return queries.get_case(None, case_id, now=utcnow())
