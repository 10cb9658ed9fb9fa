"""Cases as the API reads them: one statement a page, two for a case with its history.

Who sees what: a token acting for a person sees the cases that person's queue tabs hold
(feedback.cases.queries.visible_to), and reads one case only if the case page would show
it to them (services.get_case_for); a token acting for nobody is an integration (the CRM)
and reads every case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, true
from sqlalchemy.orm import aliased

from feedback.api.records import after
from feedback.api.schemas import known_id
from feedback.auth.models import Team, User
from feedback.cases import queries as queue
from feedback.cases.models import CLOSED_STATUSES, OPEN_STATUSES, Case, CaseEvent, status_in
from feedback.cases.services import get_case_for
from feedback.customers.models import Customer
from feedback.errors import NotFound
from feedback.extensions import db

STATUS_FILTERS = queue.STATUS_FILTERS  # open, closed, any, or one status


def _case_select():
    assignee = aliased(User)
    return (
        select(
            Case.id, Case.kind, Case.title, Case.status, Case.priority, Case.rule_key,
            Case.response_id, Customer.external_id.label("customer_external_id"),
            Customer.name.label("customer_name"), assignee.email.label("assignee_email"),
            assignee.name.label("assignee_name"), Team.name.label("team"), Case.themes,
            Case.root_cause, Case.outcome, Case.due_at, Case.created_at, Case.updated_at,
            Case.first_action_at, Case.closed_at, Case.escalated_at,
        )
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .outerjoin(Team, Team.id == Case.team_id)
    )  # fmt: skip


def _status(status: str):
    if status == "open":
        return status_in(OPEN_STATUSES)
    if status == "closed":
        return status_in(CLOSED_STATUSES)
    return true() if status == "any" else Case.status == status


def list_cases(viewer: User | None, *, limit: int, key: list | None, now: datetime,
               filters: dict) -> list[dict]:  # fmt: skip
    """`filters`: status, owner (the assignee's e-mail), team (a team's name), customer
    (external id), breached, opened_since, updated_since; absent keys do not filter."""
    if key is not None:
        key = [datetime.fromisoformat(key[0]), int(key[1])]
    query = _case_select().where(
        after((Case.updated_at, Case.id), key),
        queue.visible_to(viewer) if viewer is not None else true(),
        _status(filters.get("status", "any")),
    )
    if "owner" in filters:
        owner = select(User.id).where(User.email == filters["owner"].strip().lower())
        query = query.where(Case.assignee_id.in_(owner))
    if "team" in filters:
        query = query.where(Team.name == filters["team"])
    if "customer" in filters:
        query = query.where(Customer.external_id == filters["customer"])
    if filters.get("breached") is not None:
        late = status_in(OPEN_STATUSES) & (Case.due_at < now)
        query = query.where(late if filters["breached"] else ~late)
    if "opened_since" in filters:
        query = query.where(Case.created_at >= filters["opened_since"])
    if "updated_since" in filters:
        query = query.where(Case.updated_at >= filters["updated_since"])
    query = query.order_by(Case.updated_at, Case.id).limit(limit + 1)
    return [_shaped(dict(row), now) for row in db.session.execute(query).mappings()]


def get_case(viewer: User | None, case_id: int, *, now: datetime) -> dict:
    """The case and its history, if the viewer may see it (404 otherwise, no hint)."""
    known_id(case_id, "case")
    if viewer is not None:
        get_case_for(viewer, case_id)  # the case page's rule: NotFound if not theirs to see
    row = db.session.execute(_case_select().where(Case.id == case_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no case {case_id}.")
    events = db.session.execute(
        select(CaseEvent.id, CaseEvent.kind, CaseEvent.detail, CaseEvent.at,
               User.email.label("actor_email"))
        .outerjoin(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id)
    ).mappings()  # fmt: skip
    return {**_shaped(dict(row), now), "events": [dict(event) for event in events]}


def _shaped(row: dict, now: datetime) -> dict:
    row["customer"] = {"external_id": row.pop("customer_external_id"),
                       "name": row.pop("customer_name")}  # fmt: skip
    email, name = row.pop("assignee_email"), row.pop("assignee_name")
    row["assignee"] = {"email": email, "name": name} if email else None
    row["themes"] = [theme for theme in row["themes"].split(",") if theme]
    row["breached"] = row["status"] in OPEN_STATUSES and row["due_at"] < now
    return row


def case_key(row: dict) -> list:
    return [row["updated_at"].isoformat(), row["id"]]
