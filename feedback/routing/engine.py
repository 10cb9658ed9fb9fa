"""Turning answers into cases: decide each response once, create at most one case for it.

A response is routed once it has settled (the customer may still change the score or add a
comment for a few minutes after the first tap). The decision is a row keyed by the
response, inserted with ON CONFLICT DO NOTHING, and only the process whose insert went in
goes on to create the case, itself unique per response: so the routing job can run twice,
or in two workers at once, and a matching response still gets exactly one case, never zero
(the decision and the case are committed together) and never two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, select

from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import tag_themes
from feedback.auth.models import Team, User
from feedback.auth.services import get_or_create_team
from feedback.cases.models import Case, CaseEvent, RoutingDecision
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.dbtypes import upsert_insert, utcnow
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.routing.rules import Facts, Rule, RuleSet, first_match

SETTLE = timedelta(minutes=10)


@dataclass
class RoutingReport:
    decided: int = 0
    cases: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Subject:
    response_id: int
    customer_id: int
    owner_id: int | None
    owner_team_id: int | None
    answered_at: datetime
    facts: Facts


def subjects(response_ids: list[int]) -> list[_Subject]:
    """Everything routing needs about these responses, in one query plus text analysis."""
    segment = and_(
        CustomerSegment.customer_id == Customer.id, CustomerSegment.run_id == latest_run_id()
    )
    rows = db.session.execute(
        select(
            Response.id, Response.customer_id, User.id, User.team_id,
            Response.answered_at, Response.score, Response.csi, Response.comment,
            Response.language, CustomerSegment.abc_class, CustomerSegment.programme,
        )
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(User, and_(User.id == Customer.owner_id, User.active.is_(True)))
        .outerjoin(CustomerSegment, segment)
        .where(Response.id.in_(response_ids))
        .order_by(Response.id)
    ).all()  # fmt: skip
    found = []
    for (response_id, customer_id, owner_id, team_id, answered_at, score, csi, comment,
         language, abc_class, programme) in rows:  # fmt: skip
        comment = (comment or "").strip()
        facts = Facts(
            score=score,
            csi=csi,
            abc_class=abc_class,
            programme=programme,
            sentiment=analyse_sentiment(comment, language).label if comment else None,
            themes=tuple(tag_themes(comment, language)) if comment else (),
            language=language,
        )
        # owner_id is the named owner if that account is active (an inactive one cannot act)
        found.append(_Subject(response_id, customer_id, owner_id, team_id, answered_at, facts))
    return found


def route_responses(rules: RuleSet, response_ids: list[int], *, now: datetime) -> RoutingReport:
    """Decide these responses (those not decided yet) and create their cases; flushes."""
    report = RoutingReport()
    for subject in subjects(response_ids):
        match = first_match(rules, subject.facts)
        won = db.session.execute(
            _insert_ignoring(RoutingDecision.__table__, "response_id")
            .values(
                response_id=subject.response_id,
                rule_key=match.rule.key if match.rule else None,
                reason="; ".join(match.reasons)[:500],
                decided_at=now,
            )
            .returning(RoutingDecision.__table__.c.response_id)
        ).scalar_one_or_none()
        if won is None:  # decided before, here or by another worker
            continue
        report.decided += 1
        if match.rule is None:
            continue
        assignee_id, team_id = assignment(match.rule, subject, rules)
        case_id = db.session.execute(
            _insert_ignoring(Case.__table__, "response_id")
            .values(
                customer_id=subject.customer_id, response_id=subject.response_id,
                rule_key=match.rule.key, title=match.rule.title, assignee_id=assignee_id,
                team_id=team_id, priority=match.rule.priority, status="new",
                due_at=subject.answered_at + match.rule.due, outcome="",
                created_at=now, updated_at=now,
            )
            .returning(Case.__table__.c.id)
        ).scalar_one_or_none()  # fmt: skip
        if case_id is not None:
            db.session.execute(
                insert(CaseEvent).values(
                    case_id=case_id, kind="created", at=now,
                    detail=f"Rule {match.rule.key}: {'; '.join(match.reasons[-1:])}",
                )
            )  # fmt: skip
            report.cases += 1
            report.by_rule[match.rule.key] = report.by_rule.get(match.rule.key, 0) + 1
    db.session.flush()
    return report


def assignment(rule: Rule, subject: _Subject, rules: RuleSet) -> tuple[int | None, int | None]:
    """(assignee, team): the rule's target, else its fallback, else the owner's team, else
    the default queue. Never (None, None)."""
    for target in (rule.assign, rule.fallback):
        if target is None:
            continue
        if target == "owner" and subject.owner_id is not None:
            return subject.owner_id, subject.owner_team_id
        if target.startswith("team:"):
            return None, get_or_create_team(target[5:]).id
        if target.startswith("user:"):
            user = db.session.scalar(
                select(User).where(User.email == target[5:], User.active.is_(True))
            )
            if user is not None:
                return user.id, user.team_id
    if subject.owner_team_id is not None:
        return None, subject.owner_team_id
    return None, get_or_create_team(rules.default_queue).id


def route_pending(rules: RuleSet, *, now: datetime | None = None, settle: timedelta = SETTLE,
                  limit: int = 5000) -> RoutingReport:  # fmt: skip
    """The routing job: decide every settled response not decided yet, in batches."""
    now = now or utcnow()
    total = RoutingReport()
    ensure_teams(rules)
    db.session.commit()
    while True:
        ids = list(
            db.session.scalars(
                select(Response.id)
                .outerjoin(RoutingDecision, RoutingDecision.response_id == Response.id)
                .where(RoutingDecision.response_id.is_(None), Response.updated_at <= now - settle)
                .order_by(Response.id)
                .limit(limit)
            )
        )
        if not ids:
            return total
        report = route_responses(rules, ids, now=now)
        db.session.commit()
        total.decided += report.decided
        total.cases += report.cases
        for key, count in report.by_rule.items():
            total.by_rule[key] = total.by_rule.get(key, 0) + count
        if report.decided == 0:  # another worker took them all: it will finish
            return total


def ensure_teams(rules: RuleSet) -> None:
    """Create the teams the rules name (and the default queue) up front, so that two routing
    jobs never race to create the same team mid-batch."""
    names = {rules.default_queue}
    for rule in rules.rules:
        for target in (rule.assign, rule.fallback):
            if target and target.startswith("team:"):
                names.add(target[5:])
    existing = {n.lower() for n in db.session.scalars(select(Team.name))}
    missing = [{"name": n} for n in sorted(names) if n.lower() not in existing]
    if missing:  # ON CONFLICT: another job may be creating the same team right now
        db.session.execute(_insert_ignoring(Team.__table__, "name").values(missing))


def _insert_ignoring(table, column: str):
    return upsert_insert(table).on_conflict_do_nothing(index_elements=[column])
