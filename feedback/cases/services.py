"""What staff do with a case: take it, change its status, comment, reassign, resolve.

Plain functions; every change is checked against the actor's rights (server side, whatever
the page offered) and written to the case's history. They flush; the caller commits.

Rights: managers and admins may act on every case; an agent on cases assigned to them or
to their team's queue. Status moves: new -> in_progress -> waiting_on_customer <-> in_progress,
any open status -> resolved (an outcome is required) or no_action (a reason is required);
a closed case can be reopened to in_progress.
"""

from __future__ import annotations

from datetime import datetime

from feedback.analysis.themes import load_themes
from feedback.auth.models import User
from feedback.cases.announce import announce_cases
from feedback.cases.models import CLOSED_STATUSES, Case, CaseEvent
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db

MAX_TEXT = 5000
_MOVES = {
    "new": {"in_progress", "waiting_on_customer", "resolved", "no_action"},
    "in_progress": {"waiting_on_customer", "resolved", "no_action"},
    "waiting_on_customer": {"in_progress", "resolved", "no_action"},
    "resolved": {"in_progress"},
    "no_action": {"in_progress"},
}


class NotAllowed(DomainError):
    """The actor may not see or change this case."""


def can_act(actor: User, case: Case) -> bool:
    if actor.role in ("admin", "manager"):
        return True
    if case.assignee_id == actor.id:
        return True
    return case.assignee_id is None and case.team_id is not None and case.team_id == actor.team_id


def get_case_for(actor: User, case_id: int) -> Case:
    """The case if the actor may see it; NotFound otherwise (no hint that it exists)."""
    case = db.session.get(Case, case_id) if 0 < case_id < 2**31 else None
    if case is None or not (can_act(actor, case) or _is_team_case(actor, case)):
        raise NotFound(f"no case #{case_id}")
    return case


def _is_team_case(actor: User, case: Case) -> bool:
    """Agents also see (but do not change) cases of teammates, so the team can cover."""
    if actor.team_id is None:
        return False
    if case.team_id == actor.team_id:
        return True
    return case.assignee is not None and case.assignee.team_id == actor.team_id


def _require(actor: User, case: Case) -> None:
    if not can_act(actor, case):
        raise NotAllowed("only the assignee, their team's queue, or a manager may change this case")


def _text(value: str | None, what: str, *, required: bool) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise DomainError(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise DomainError(f"{what} is longer than {MAX_TEXT} characters")
    if "\x00" in text:
        raise DomainError(f"{what} contains characters that could not be read")
    return text


def _event(case: Case, actor: User, kind: str, detail: str, now: datetime) -> None:
    db.session.add(CaseEvent(case_id=case.id, actor_id=actor.id, kind=kind, detail=detail, at=now))
    if case.first_action_at is None and kind != "created":
        case.first_action_at = now
    case.updated_at = now


def allowed_moves(status: str) -> list[str]:
    """The statuses a case in `status` may move to, in workflow order."""
    return [s for s in _MOVES if s in _MOVES.get(status, ())]


def change_status(actor: User, case: Case, status: str, *, note: str | None = None,
                  root_cause: str | None = None, now: datetime | None = None) -> Case:  # fmt: skip
    """Move the case; resolving needs an outcome, no_action a reason (both kept on the case).
    `root_cause`, a theme key, may be set when closing."""
    now = now or utcnow()
    _require(actor, case)
    if status not in _MOVES:
        raise DomainError(f"unknown status {status!r}")
    if root_cause and root_cause not in load_themes():
        raise DomainError(f"unknown root cause {root_cause[:40]!r}")
    if status == case.status:
        return case
    if status not in _MOVES[case.status]:
        raise DomainError(
            f"a {case.status.replace('_', ' ')} case cannot become {status.replace('_', ' ')}"
        )
    if status in CLOSED_STATUSES:
        what = "an outcome" if status == "resolved" else "a reason"
        case.outcome = _text(note, what, required=True)
        case.closed_at = now
        case.root_cause = root_cause or case.root_cause
    else:
        case.closed_at = None
    previous, case.status = case.status, status
    detail = f"{previous} → {status}" + (f": {case.outcome}" if status in CLOSED_STATUSES else "")
    _event(case, actor, "resolved" if status in CLOSED_STATUSES else "status", detail, now)
    db.session.flush()
    if status in CLOSED_STATUSES:  # resolved, or closed with no action: status tells which
        announce_cases("case.resolved", [case.id], now=now)
    return case


def add_comment(actor: User, case: Case, text: str, *, now: datetime | None = None) -> Case:
    now = now or utcnow()
    _require(actor, case)
    _event(case, actor, "comment", _text(text, "a comment", required=True), now)
    db.session.flush()
    return case


def reassign(actor: User, case: Case, *, assignee: User | None = None, team_id: int | None = None,
             now: datetime | None = None) -> Case:  # fmt: skip
    """Give the case to a person (their team comes along) or to a team's queue."""
    now = now or utcnow()
    _require(actor, case)
    if assignee is not None:
        if not assignee.active:
            raise DomainError(f"{assignee.email} is not an active user")
        case.assignee_id, case.team_id = assignee.id, assignee.team_id or case.team_id
        detail = f"assigned to {assignee.display_name}"
    elif team_id is not None:
        case.assignee_id, case.team_id = None, team_id
        detail = "moved to the team queue"
    else:
        raise DomainError("choose a person or a team")
    if case.assignee_id is None and case.team_id is None:  # pragma: no cover - guarded above
        raise DomainError("a case needs a person or a team")
    _event(case, actor, "assigned", detail, now)
    db.session.flush()
    return case
