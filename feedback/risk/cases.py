"""High churn risk becomes a case for a named person, through the `churn_risk` rules of
routing.yaml: at most one open churn case per customer (a partial unique index holds it
under concurrent runs too), with the score's reasons in the case's first history line."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select

from feedback.auth.models import User
from feedback.cases.announce import announce_cases
from feedback.cases.models import OPEN_STATUSES, Case, CaseEvent
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.dbtypes import upsert_insert
from feedback.extensions import db
from feedback.risk.models import ChurnRun, ChurnScore
from feedback.routing.engine import _Subject, assignment, ensure_teams
from feedback.routing.rules import Facts, Rule, RuleSet

# After a churn case is closed, the same customer gets no new one for this long: the owner
# has just talked to them, and next week's score will not have seen the effect yet.
QUIET_AFTER_CLOSE = timedelta(days=30)


def _first_rule(rules: RuleSet, risk: int, abc_class, programme) -> Rule | None:
    for rule in rules.churn_rules:
        when = rule.when
        if (
            risk >= when.risk_from
            and (not when.classes or abc_class in when.classes)
            and (not when.programmes or programme in when.programmes)
        ):
            return rule
    return None


def open_churn_cases(rules: RuleSet, run: ChurnRun, *, now: datetime,
                     announce: bool = True) -> int:  # fmt: skip
    """Open a case for each customer whose score in `run` matches a churn rule and who has
    no open churn case (nor one closed in the last 30 days), each announced as case.created
    unless `announce` is off. Flushes; returns cases opened."""
    if not rules.churn_rules:
        return 0
    ensure_teams(rules)
    lowest = min(rule.when.risk_from for rule in rules.churn_rules)
    churn_case = and_(Case.customer_id == ChurnScore.customer_id, Case.kind == "churn_risk")
    blocked = exists().where(churn_case, or_(Case.status.in_(OPEN_STATUSES),
                                             Case.closed_at > now - QUIET_AFTER_CLOSE))  # fmt: skip
    segment = and_(CustomerSegment.customer_id == ChurnScore.customer_id,
                   CustomerSegment.run_id == latest_run_id())  # fmt: skip
    candidates = db.session.execute(
        select(ChurnScore.customer_id, ChurnScore.risk, ChurnScore.reasons,
               CustomerSegment.abc_class, CustomerSegment.programme, User.id, User.team_id)
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .outerjoin(CustomerSegment, segment)
        .outerjoin(User, and_(User.id == Customer.owner_id, User.active.is_(True)))
        .where(ChurnScore.run_id == run.id, ChurnScore.risk >= lowest, ~blocked)
        .order_by(ChurnScore.customer_id)
    ).all()  # fmt: skip
    targets: dict = {}
    cases, details = [], {}
    for customer_id, risk, reasons, abc_class, programme, owner_id, team_id in candidates:
        rule = _first_rule(rules, risk, abc_class, programme)
        if rule is None:
            continue
        subject = _Subject(0, customer_id, owner_id, team_id, now,
                           Facts(None, None, abc_class, programme, None))  # fmt: skip
        assignee_id, case_team_id = assignment(rule, subject, rules, targets)
        cases.append({
            "customer_id": customer_id, "rule_key": rule.key, "kind": "churn_risk",
            "title": rule.title, "assignee_id": assignee_id, "team_id": case_team_id,
            "priority": rule.priority, "due_at": rules.deadline(rule, now), "status": "new",
            "outcome": "", "themes": "", "created_at": now, "updated_at": now,
        })  # fmt: skip
        said = "; ".join(reasons or []) or "no single reason stands out"
        details[customer_id] = (
            f"Rule {rule.key} (churn risk {risk} % as of {run.as_of.isoformat()}, "
            f"class {abc_class or '-'}): {said}"
        )[:2000]
    created = []
    for start in range(0, len(cases), 500):
        statement = (
            upsert_insert(Case.__table__)
            .values(cases[start : start + 500])
            .on_conflict_do_nothing()  # another run opened it meanwhile: the index says no
            .returning(Case.__table__.c.id, Case.__table__.c.customer_id)
        )
        created += db.session.execute(statement).all()
    if created:
        db.session.execute(
            CaseEvent.__table__.insert(),
            [{"case_id": case_id, "kind": "created", "detail": details[customer_id], "at": now}
             for case_id, customer_id in created],
        )  # fmt: skip
        if announce:
            announce_cases("case.created", sorted(case_id for case_id, _ in created), now=now)
    db.session.flush()
    return len(created)
