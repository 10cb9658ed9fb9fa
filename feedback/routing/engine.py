"""Turning answers into cases: decide each response once, create at most one case for it.

A response is routed once it has settled (the customer may still change the score or add a
comment for a few minutes after the first tap). The decision is a row keyed by the
response, inserted with ON CONFLICT DO NOTHING, and only the process whose insert went in
goes on to create the case, itself unique per response: so the routing job can run twice,
or in two workers at once, and a matching response still gets exactly one case, never zero
(the decision and the case are committed together) and never two.

Routing is set-based: per batch, a multi-row insert of decisions that returns the responses
this worker won, then one of their cases and one of the cases' "created" events (a statement
each on PostgreSQL, one per 500 rows on SQLite): no statement runs per response, and teams
and users named by the rules are looked up once per batch. Rows go
in ascending response order in every worker, so two workers wait on each other's batch but
never deadlock. Comment analysis, the costly part, runs only where it can change the match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Text, and_, bindparam, cast, column, func, select
from sqlalchemy.dialects.postgresql import JSON

from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import tag_themes
from feedback.auth.models import Team, User
from feedback.auth.services import get_or_create_team
from feedback.cases.announce import announce_cases
from feedback.cases.models import Case, CaseEvent, RoutingDecision
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.dbtypes import upsert_insert, utcnow
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.routing.rules import Facts, Match, Rule, RuleSet, first_match

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
    comment: str = ""


def subjects(response_ids: list[int]) -> list[_Subject]:
    """Everything routing needs about these responses, in one query plus text analysis."""
    return [_subject(row, sentiment=True, themes=True) for row in _rows(response_ids)]


def _rows(response_ids: list[int]) -> list:
    segment = and_(
        CustomerSegment.customer_id == Customer.id, CustomerSegment.run_id == latest_run_id()
    )
    # Core execution: plain rows, no ORM loading machinery (a third of this function's time)
    return db.session.connection().execute(
        select(
            Response.id, Response.customer_id, User.id, User.team_id,
            Response.answered_at, Response.score, Response.csi, Response.comment,
            Response.language, CustomerSegment.abc_class, CustomerSegment.programme,
        )
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(User, and_(User.id == Customer.owner_id, User.active.is_(True)))
        .outerjoin(CustomerSegment, segment)
        # ids inline: psycopg would rewrite thousands of placeholders one by one
        .where(Response.id.in_(bindparam("ids", response_ids, expanding=True,
                                         literal_execute=True)))
        .order_by(Response.id)
    ).all()  # fmt: skip


def _subject(row, *, sentiment: bool, themes: bool) -> _Subject:
    """The subject, with the comment's sentiment and themes if asked (else None and ())."""
    (response_id, customer_id, owner_id, team_id, answered_at, score, csi, comment, language,
     abc_class, programme) = row  # fmt: skip
    comment = (comment or "").strip()
    facts = Facts(
        score=score,
        csi=csi,
        abc_class=abc_class,
        programme=programme,
        sentiment=analyse_sentiment(comment, language).label if comment and sentiment else None,
        themes=tuple(tag_themes(comment, language)) if comment and themes else (),
        language=language,
    )
    # owner_id is the named owner if that account is active (an inactive one cannot act)
    return _Subject(response_id, customer_id, owner_id, team_id, answered_at, facts, comment)


def _what_matched(subject: _Subject, match: Match) -> str:
    """The answer in a few words, for the case's first history line: "detractor, class A"."""
    klass = f"class {subject.facts.abc_class}" if subject.facts.abc_class else None
    return ", ".join(part for part in (match.band, klass) if part) or "no band"


def _themes(subject: _Subject) -> str:
    """The case's stored themes (",delivery,price,"), a queue filter: tagged only for the
    responses that become cases, reusing what routing tagged."""
    if not subject.comment:
        return ""
    themes = subject.facts.themes or tag_themes(subject.comment, subject.facts.language)
    return "," + ",".join(themes) + "," if themes else ""


def _judged(rules: RuleSet, response_ids: list[int]) -> list[tuple[_Subject, Match]]:
    """Subjects and their matches. Sentiment analysis and theme tagging are most of the cost,
    so a comment is analysed only when it can change the match (see _comment_matters), and
    only for what some rule reads: no rule with a themes condition, no theme tagging."""
    sentiment = any(rule.when.sentiments for rule in rules.rules)
    themes = any(rule.when.themes for rule in rules.rules)
    judged = []
    for row in _rows(response_ids):
        subject = _subject(row, sentiment=False, themes=False)
        match = first_match(rules, subject.facts)
        if row.comment and row.comment.strip() and _comment_matters(rules, subject.facts, match):
            subject = _subject(row, sentiment=sentiment, themes=themes)
            match = first_match(rules, subject.facts)
        judged.append((subject, match))
    return judged


def _comment_matters(rules: RuleSet, facts: Facts, blind: Match) -> bool:
    """Whether the match found without the comment's sentiment and themes could differ,
    in rule or reasons, once they are known.

    Only rules with a sentiment or themes condition read them, and those check band, class
    and programme first (rules._failed_condition): one that fails there fails with the same
    reason either way, and rules that do not read them decide as before. So the comment
    matters only if a reading rule up to the blind match passes band, class and programme.
    tests/test_routing_engine.py checks the equivalence over every combination of facts."""
    for rule in rules.rules:
        when = rule.when
        if (
            (when.sentiments or when.themes)
            and (not when.bands or blind.band in when.bands)
            and (not when.classes or facts.abc_class in when.classes)
            and (not when.programmes or facts.programme in when.programmes)
        ):
            return True
        if rule is blind.rule:
            return False
    return False


def route_responses(rules: RuleSet, response_ids: list[int], *, now: datetime,
                    announce: bool = True) -> RoutingReport:  # fmt: skip
    """Decide these responses (those not decided yet) and create their cases; flushes.

    The decisions' insert (ON CONFLICT DO NOTHING) returns the responses this call won; only
    those get cases (again ON CONFLICT DO NOTHING on the response), and only the cases that
    went in get their "created" event, and their case.created webhook event unless
    `announce` is off (the demo's history). See _insert_rows for the statements."""
    report = RoutingReport()
    matches = {}
    decisions = []
    for subject, match in _judged(rules, response_ids):
        matches[subject.response_id] = (subject, match)
        decisions.append({
            "response_id": subject.response_id, "rule_key": match.rule.key if match.rule else None,
            "reason": "; ".join(match.reasons)[:500],
        })  # fmt: skip
    won = _insert_rows(RoutingDecision.__table__, decisions, same={"decided_at": now},
                       conflict="response_id", returning=("response_id",))  # fmt: skip
    report.decided = len(won)
    targets: dict = {}  # each team and user looked up once per batch
    cases = []
    for (response_id,) in sorted(won):  # ascending, as every worker inserts: no deadlocks
        subject, match = matches[response_id]
        if match.rule is None:
            continue
        assignee_id, team_id = assignment(match.rule, subject, rules, targets)
        cases.append({
            "customer_id": subject.customer_id, "response_id": response_id,
            "rule_key": match.rule.key, "title": match.rule.title, "assignee_id": assignee_id,
            "team_id": team_id, "priority": match.rule.priority,
            "due_at": subject.answered_at, "themes": _themes(subject),  # due: below
        })  # fmt: skip
    team_names = _team_names() if rules.team_hours else {}  # after assignment made teams
    for case in cases:
        rule = matches[case["response_id"]][1].rule
        case["due_at"] = rules.deadline(rule, case["due_at"], team_names.get(case["team_id"]))
    same = {"status": "new", "outcome": "", "created_at": now, "updated_at": now}
    created = _insert_rows(Case.__table__, cases, same=same, conflict="response_id",
                           returning=("id", "response_id"))  # fmt: skip
    events = []
    for case_id, response_id in created:
        subject, match = matches[response_id]
        what = _what_matched(subject, match)
        events.append({
            "case_id": case_id, "detail": f"Rule {match.rule.key} ({what}): {match.rule.title}",
        })  # fmt: skip
        report.by_rule[match.rule.key] = report.by_rule.get(match.rule.key, 0) + 1
    _insert_rows(CaseEvent.__table__, events, same={"kind": "created", "at": now})
    if announce:
        announce_cases("case.created", sorted(case_id for case_id, _ in created), now=now)
    report.cases = len(created)
    db.session.flush()
    return report


def _team_names() -> dict[int, str]:
    """team id -> name, for teams with business hours of their own."""
    return dict(db.session.execute(select(Team.id, Team.name)).all())


def assignment(rule: Rule, subject: _Subject, rules: RuleSet,
               targets: dict | None = None) -> tuple[int | None, int | None]:  # fmt: skip
    """(assignee, team): the rule's target, else its fallback, else the owner's team, else
    the default queue. Never (None, None). `targets` caches team and user look-ups across
    calls (one batch: a user who leaves mid-batch is seen at the next)."""
    targets = {} if targets is None else targets
    for target in (rule.assign, rule.fallback):
        if target is None:
            continue
        if target == "owner":
            if subject.owner_id is not None:
                return subject.owner_id, subject.owner_team_id
            continue
        resolved = _resolve(target, targets)
        if resolved is not None:
            return resolved
    if subject.owner_team_id is not None:
        return None, subject.owner_team_id
    return _resolve(f"team:{rules.default_queue}", targets)


def _resolve(target: str, targets: dict) -> tuple[int | None, int | None] | None:
    """(assignee, team) for team:<name> or user:<e-mail>; None for no such active user."""
    if target not in targets:
        if target.startswith("team:"):
            targets[target] = (None, get_or_create_team(target[5:]).id)
        else:
            user = db.session.execute(
                select(User.id, User.team_id).where(User.email == target[5:], User.active.is_(True))
            ).first()
            targets[target] = (user.id, user.team_id) if user is not None else None
    return targets[target]


def _insert_rows(table, rows: list[dict], *, same: dict, conflict: str | None = None,
                 returning: tuple[str, ...] = ()) -> list[tuple]:  # fmt: skip
    """Insert many rows, with the values in `same` in every row, skipping those that conflict
    on the unique column `conflict`; returns the `returning` columns of the rows that went in.

    PostgreSQL: one INSERT ... SELECT FROM json_to_recordset(<the rows as one JSON text>).
    A multi-row VALUES list costs psycopg some 15 µs per placeholder to rewrite, and arrays
    per column are dumped element by element in Python; json.dumps is C. SQLite: multi-row
    VALUES (SQLAlchemy's "insertmanyvalues"), 500 rows a statement: a case row binds 12
    values, SQLite allows 32,766 per statement (999 before 3.32)."""
    if not rows:
        return []
    names = list(rows[0])
    statement = upsert_insert(table)
    if db.session.get_bind().dialect.name == "postgresql":
        payload = json.dumps(rows, default=_json_time, separators=(",", ":"))
        source = (
            func.json_to_recordset(cast(bindparam("rows", payload, type_=Text), JSON))
            .table_valued(*(column(name, table.c[name].type) for name in names))
            .render_derived(with_types=True)
        )
        constants = [bindparam(f"same_{name}", value, type_=table.c[name].type)
                     for name, value in same.items()]  # fmt: skip
        statement = statement.from_select([*names, *same], select(*source.c, *constants))
        chunks = [{}]
    else:
        chunks = [[{**row, **same} for row in rows[start : start + 500]]
                  for start in range(0, len(rows), 500)]  # fmt: skip
    if conflict:
        statement = statement.on_conflict_do_nothing(index_elements=[conflict])
    if not returning:
        for chunk in chunks:
            db.session.execute(statement, chunk)
        return []
    statement = statement.returning(*(table.c[name] for name in returning))
    return [tuple(row) for chunk in chunks for row in db.session.execute(statement, chunk)]


def _json_time(value) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError(f"cannot store {value!r}: timezone-aware UTC datetimes only")
    return value.astimezone(UTC).isoformat()


def route_pending(rules: RuleSet, *, now: datetime | None = None, settle: timedelta = SETTLE,
                  limit: int = 5000) -> RoutingReport:  # fmt: skip
    """The routing job: decide every settled response not decided yet, in batches."""
    now = now or utcnow()
    total = RoutingReport()
    ensure_teams(rules)
    db.session.commit()
    after = 0  # each settled response up to here is decided (by this job or another)
    while True:
        # the second condition lets the anti-join skip the decisions behind us, too
        decided = and_(RoutingDecision.response_id == Response.id,
                       RoutingDecision.response_id > after)  # fmt: skip
        ids = list(
            db.session.scalars(
                select(Response.id)
                .outerjoin(RoutingDecision, decided)
                .where(
                    RoutingDecision.response_id.is_(None),
                    Response.id > after,
                    Response.updated_at <= now - settle,
                )
                .order_by(Response.id)
                .limit(limit)
            )
        )
        if not ids:
            return total
        after = ids[-1]
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
