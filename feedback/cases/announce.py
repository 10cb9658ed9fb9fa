"""Case events for the outbox (case.created, case.breached, case.resolved).

What a case event carries: the case's id, kind, status, priority, title, rule, deadline and
closing time, its team's name, the customer's id, number and name, the answer's id and score
(answer cases), and a link to the case page. The assignee's e-mail address only in
case.created, the event that assigns the case (a chat tool can name the person); the
outcome and comments staff write are left out (they may quote the customer's people).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from feedback.auth.models import Team, User
from feedback.cases.models import Case
from feedback.customers.models import Customer
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.outbox import emit_many, staff_url, stamp
from feedback.responses.models import Response


def announce_cases(type: str, case_ids: list[int], *, now: datetime | None = None) -> int:
    """Emit one `type` event per case, in id order, in the caller's transaction."""
    if not case_ids:
        return 0
    rows = db.session.execute(
        select(
            Case.id, Case.kind, Case.status, Case.priority, Case.title, Case.rule_key,
            Case.due_at, Case.created_at, Case.closed_at, Case.root_cause, Team.name,
            Customer.id, Customer.external_id, Customer.name, Case.response_id, Response.score,
            User.email, User.name,
        )
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .outerjoin(Response, Response.id == Case.response_id)
        # ids inline: psycopg would rewrite thousands of placeholders one by one
        .where(Case.id.in_(bindparam("ids", list(case_ids), expanding=True,
                                     literal_execute=True)))
        .order_by(Case.id)
    ).all()  # fmt: skip
    base = staff_url("")
    events = []
    for (case_id, kind, status, priority, title, rule, due_at, created_at, closed_at,
         root_cause, team, customer_id, external_id, customer_name, response_id, score,
         assignee_email, assignee_name) in rows:  # fmt: skip
        data = {
            "case": {
                "id": case_id, "kind": kind, "status": status, "priority": priority,
                "title": title, "rule": rule, "due_at": stamp(due_at),
                "created_at": stamp(created_at),
                "closed_at": stamp(closed_at) if closed_at else None,
                "root_cause": root_cause, "team": team,
            },
            "customer": {"id": customer_id, "external_id": external_id, "name": customer_name},
            "response": {"id": response_id, "score": score} if response_id else None,
            "url": f"{base}/cases/{case_id}",
        }  # fmt: skip
        if type == "case.created":
            data["assignee"] = (
                {"email": assignee_email, "name": assignee_name} if assignee_email else None
            )
        events.append((type, f"case:{case_id}", data))
    return emit_many(events, occurred_at=now or utcnow())
