"""Time routing 100,000 settled responses into cases (target: 5,000 responses/s on PostgreSQL).

    .venv/bin/python bench/route_responses.py                              # PostgreSQL
    .venv/bin/python bench/route_responses.py --database-url sqlite        # SQLite
    .venv/bin/python bench/route_responses.py --responses 20000 --profile  # where time goes

On PostgreSQL it works in the database `bench` of the server the URL names (created if
missing) and a schema of its own, dropped afterwards; SQLite uses a temporary file. Set-up
(20,000 customers with owners and segments, five waves, 100,000 answered invitations with
comments in en/da/sv/nb) is bulk-loaded and not timed. Each timed run is the routing job,
`route_pending` with no settling time, over all responses, commits included; between runs
the decisions and cases are emptied. Every run is checked: one decision per response, the
rule each records is what the rules say with the full comment analysis, and exactly one case
(with one "created" event) per matching response.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from demo_seed import (  # noqa: E402
    add_database_argument,
    bench_app,
    describe,
    drop_bench_app,
    use_database,
)
from sqlalchemy import func, select, text  # noqa: E402

from feedback.auth.models import Team, User  # noqa: E402
from feedback.cases.models import Case, CaseEvent, RoutingDecision  # noqa: E402
from feedback.customers.models import SegmentRun  # noqa: E402
from feedback.demo.comments import COMMENTS  # noqa: E402
from feedback.demo.seed import db_time, write_rows  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.responses.models import Response  # noqa: E402
from feedback.routing.engine import route_pending, subjects  # noqa: E402
from feedback.routing.rules import first_match, load_rules  # noqa: E402
from feedback.surveys.models import Survey, Wave  # noqa: E402
from feedback.surveys.services import template_version_for  # noqa: E402
from feedback.surveys.templates import load_templates  # noqa: E402

SCHEMA = "bench_routing"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET = 5_000  # responses/s on PostgreSQL
WAVES = 5
LANGUAGES, LANGUAGE_SHARE = ("da", "sv", "nb", "en"), (0.4, 0.25, 0.2, 0.15)
CLASS_SHARE = (("A", 0.05), ("B", 0.15), ("C", 0.30), ("D", 0.50))  # of customers, by rank
OWNERS = {"Key accounts": 24, "Internal sales": 16}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_argument(parser, DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one run, print the top")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    use_database(args.database_url)

    with tempfile.TemporaryDirectory(prefix="bench-routing-") as workdir:
        app = bench_app(SCHEMA, fresh=True, workdir=Path(workdir))
        try:
            with app.app_context():
                started = time.perf_counter()
                _seed(np.random.default_rng(args.seed), args.customers, args.responses)
                print(f"database:   {describe(app)} (set-up {time.perf_counter() - started:.0f} s,"
                      " not timed)")  # fmt: skip
                print(f"customers:  {args.customers:,}")
                print(f"responses:  {args.responses:,}")
                _run_all(args)
        finally:
            drop_bench_app(app, SCHEMA)


def _run_all(args) -> None:
    rules = load_rules()
    expected = _expected(rules)
    rates = []
    for run in range(1, args.repeat + 1):
        if run > 1:
            _clear()
        profiler = cProfile.Profile() if args.profile and run == 1 else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = route_pending(rules, settle=timedelta(0))
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        _check(report, expected, args.responses)
        rates.append(args.responses / seconds)
        verdict = "ok" if rates[-1] >= TARGET else f"under {TARGET:,}/s"
        note = "  (profiled)" if profiler else ""
        print(f"run {run}: {seconds:6.2f} s  {rates[-1]:8,.0f} responses/s  "
              f"{report.cases:,} cases  [{verdict}]{note}")  # fmt: skip
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)
    print(f"best:       {max(rates):,.0f} responses/s; spread {min(rates):,.0f}-{max(rates):,.0f}"
          f" (median {statistics.median(rates):,.0f}) over {len(rates)} runs")  # fmt: skip
    print(f"load:       {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    print("cases by rule (last run; checked against the rules' verdict per response):")
    for rule in rules.rules:
        print(f"  {rule.key:<28} {report.by_rule.get(rule.key, 0):>7,}")
    print(f"  {'(no case)':<28} {report.decided - report.cases:>7,}")


def _expected(rules) -> dict[int, str | None]:
    """response id -> the rule key, from the full comment analysis of every response."""
    ids = list(db.session.scalars(select(Response.id).order_by(Response.id)))
    expected = {}
    for start in range(0, len(ids), 5000):
        for subject in subjects(ids[start : start + 5000]):
            match = first_match(rules, subject.facts)
            expected[subject.response_id] = match.rule.key if match.rule else None
    db.session.rollback()
    return expected


def _check(report, expected: dict[int, str | None], responses: int) -> None:
    decided = dict(db.session.execute(select(RoutingDecision.response_id,
                                             RoutingDecision.rule_key)).all())  # fmt: skip
    assert len(expected) == responses and report.decided == responses, report
    by_rule = {key: list(expected.values()).count(key) for key in report.by_rule}
    assert report.by_rule == by_rule, (report.by_rule, by_rule)
    assert decided == expected, "a decision differs from the rules' verdict"
    cased = db.session.execute(select(Case.response_id, Case.rule_key)).all()
    matching = {rid: key for rid, key in expected.items() if key is not None}
    assert len(cased) == len(matching) == report.cases, (len(cased), len(matching), report)
    assert dict(cased) == matching, "cases differ from the matching responses"
    per_case = db.session.execute(
        select(func.count(), func.count(func.distinct(CaseEvent.case_id))).where(
            CaseEvent.kind == "created"
        )
    ).one()
    assert tuple(per_case) == (len(matching), len(matching)), per_case
    unassigned = db.session.scalar(
        select(func.count()).where(Case.assignee_id.is_(None), Case.team_id.is_(None))
    )
    assert unassigned == 0
    db.session.rollback()


def _clear() -> None:
    tables = ("case_events", "cases", "routing_decisions")
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)}"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


# Set-up ----------------------------------------------------------------------------------


def _seed(rng: np.random.Generator, customers: int, responses: int) -> None:
    now = datetime.now(UTC)
    stamp = db_time(now)
    teams = {name: Team(name=name) for name in (*OWNERS, "Customer support")}
    db.session.add_all(teams.values())
    db.session.flush()
    owner_ids = []
    for team, count in OWNERS.items():
        for n in range(count):
            user = User(email=f"{team.split()[0].lower()}{n}@bench.test", name=f"{team} {n}",
                        role="agent", team_id=teams[team].id, password_hash="!",
                        active=n != 0)  # one leaver per team: cases go to the team  # fmt: skip
            db.session.add(user)
            owner_ids.append(user)
    db.session.flush()
    owner_ids = [u.id for u in owner_ids]

    ids = np.arange(1, customers + 1)
    language = rng.choice(LANGUAGES, customers, p=LANGUAGE_SHARE).tolist()
    potential = rng.choice(("high", "medium", "low"), customers, p=(0.25, 0.35, 0.4))
    owner = np.where(rng.random(customers) < 0.8, rng.choice(owner_ids, customers), 0)
    write_rows("customers", ("id", "external_id", "name", "owner_id", "potential", "language",
                             "created_at", "updated_at"),
               ((int(i), f"K{i}", f"Kunde {i}", int(owner[i - 1]) or None, str(potential[i - 1]),
                 language[i - 1], stamp, stamp) for i in ids))  # fmt: skip
    write_rows("contacts", ("id", "customer_id", "name", "email", "language", "status",
                            "created_at", "updated_at"),
               ((int(i), int(i), "Kontakt", f"k{i}@kunde.test", language[i - 1], "active",
                 stamp, stamp) for i in ids))  # fmt: skip

    run = SegmentRun(as_of=date.today(), thresholds="50,30,15", base_currency="EUR",
                     customer_count=customers)  # fmt: skip
    db.session.add(run)
    db.session.flush()
    ranks = rng.permutation(customers) + 1
    cuts = np.cumsum([share for _, share in CLASS_SHARE]) * customers
    abc = np.array([c for c, _ in CLASS_SHARE])[np.searchsorted(cuts, ranks, side="left")].tolist()
    programme = np.where(potential == "low", "retain", "grow").tolist()
    write_rows("customer_segments", ("run_id", "customer_id", "revenue_12m", "abc_class",
                                     "programme", "rank"),
               ((run.id, int(i), 1_000_000 // int(ranks[i - 1]), abc[i - 1], programme[i - 1],
                 int(ranks[i - 1])) for i in ids))  # fmt: skip

    template = load_templates()["nps"]
    version = template_version_for(template)
    survey = Survey(name="Quarterly NPS", template_key="nps")
    db.session.add(survey)
    db.session.flush()
    per_wave = -(-responses // WAVES)
    waves = []
    for n in range(WAVES):
        sent = now - timedelta(days=91 * (WAVES - n))
        closes = sent + timedelta(days=14)
        wave = Wave(survey_id=survey.id, status="closed", audience={},
                    template_version_id=version.id, sent_at=sent, closes_at=closes,
                    closed_at=closes)  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        waves.append(wave)
    # Invitation n goes to customer n % customers in wave n // per_wave: unique per wave
    count = responses
    number = np.arange(count)
    customer = number % customers + 1
    wave_of = number // per_wave
    if per_wave > customers:
        raise SystemExit(f"at most {customers * WAVES:,} responses for {customers:,} customers")
    sent_at = [waves[w].sent_at for w in range(WAVES)]
    answered = [
        sent_at[int(w)] + timedelta(hours=float(h))
        for w, h in zip(wave_of, rng.exponential(40, count).clip(0, 300), strict=True)
    ]
    write_rows("invitations", ("id", "wave_id", "contact_id", "customer_id", "token",
                               "language", "state", "reminders_sent", "sent_at", "answered_at",
                               "created_at"),
               ((int(n) + 1, waves[int(wave_of[n])].id, int(customer[n]), int(customer[n]),
                 f"bench-{n}", language[customer[n] - 1], "answered", 0,
                 db_time(sent_at[int(wave_of[n])]), db_time(answered[n]), stamp)
                for n in number))  # fmt: skip

    # Scores scatter around each customer's satisfaction: about 25 % detractors, 30 %
    # passives, 45 % promoters; unhappy customers comment more, in the score's mood.
    satisfaction = rng.beta(5, 1.8, customers)[customer - 1]
    score = np.clip(np.rint(10.8 * satisfaction - 0.4 + rng.normal(0, 1.3, count)), 0, 10)
    commented = rng.random(count) < np.where(score <= 6, 0.6, 0.35)
    passive_mood = rng.choice(("negative", "neutral"), count, p=(0.35, 0.65))
    mood = np.where(score <= 6, "negative", np.where(score <= 8, passive_mood, "positive"))
    mood = mood.tolist()
    pick = rng.integers(0, 1000, count)
    reference = rng.integers(10_000, 99_999, count)

    def comment(n: int) -> str:
        if not commented[n]:
            return ""
        bank = COMMENTS[language[customer[n] - 1]][mood[n]]
        # Real comments are rarely identical: two sentences and an order number (no mood)
        return f"{bank[pick[n] % len(bank)]} {bank[pick[n] // 7 % len(bank)]} #{reference[n]}"

    write_rows("responses", ("id", "invitation_id", "wave_id", "customer_id",
                             "template_version_id", "score", "comment", "language",
                             "answered_at", "updated_at"),
               ((int(n) + 1, int(n) + 1, waves[int(wave_of[n])].id, int(customer[n]),
                 version.id, int(score[n]), comment(n), language[customer[n] - 1],
                 db_time(answered[n]), db_time(answered[n])) for n in number))  # fmt: skip
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        for table in ("customers", "contacts", "invitations", "responses"):  # ids given above
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))  # fmt: skip
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


if __name__ == "__main__":
    main()
