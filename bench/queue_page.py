"""Time the case queue page with 100,000 cases (target: p95 under 150 ms on PostgreSQL).

    .venv/bin/python bench/queue_page.py                          # PostgreSQL
    .venv/bin/python bench/queue_page.py --database-url sqlite    # SQLite

Set-up (not timed): the routing bench's 20,000 customers and 100,000 answered invitations,
then one case per response written in bulk, as a year of work looks: about 8 % still open
(some past their deadline), the rest resolved or closed without action, spread over 40
people in three teams and the team queues, with the comment's themes. Each
timed request is a full GET through the app (login session, queries, template) with the
Flask test client, so it measures the server's work without network noise; the scenarios
are what people click: an agent's My cases and Team tabs, a manager's All tab, filters,
a deep page and the closed cases.
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
from datetime import timedelta
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
from route_responses import _seed as seed_responses  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from feedback.analysis.themes import tag_themes  # noqa: E402
from feedback.auth.models import Team, User  # noqa: E402
from feedback.cases.models import Case  # noqa: E402
from feedback.demo.seed import db_time, write_rows  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.maintenance import refresh_statistics  # noqa: E402
from feedback.responses.models import Response  # noqa: E402

SCHEMA = "bench_queue"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_P95_MS = 150
PASSWORD = "bench-password-1"
SCENARIOS = (
    ("agent: My cases", "agent", "/cases?view=mine"),
    ("agent: Team", "agent", "/cases?view=team"),
    ("manager: All", "manager", "/cases"),
    ("manager: All, past deadline", "manager", "/cases?breached=1"),
    ("manager: All, class A, urgent", "manager", "/cases?class=A&priority=urgent"),
    ("manager: All, theme delivery", "manager", "/cases?theme=delivery"),
    ("manager: All, page 20", "manager", "/cases?page=20"),
    ("manager: closed cases", "manager", "/cases?status=closed"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_argument(parser, DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60, help="per scenario")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="cProfile the manager's All tab")
    args = parser.parse_args()
    use_database(args.database_url)

    with tempfile.TemporaryDirectory(prefix="bench-queue-") as workdir:
        app = bench_app(SCHEMA, fresh=True, workdir=Path(workdir))
        app.config["WTF_CSRF_ENABLED"] = False  # the bench signs in by posting the form
        try:
            with app.app_context():
                started = time.perf_counter()
                rng = np.random.default_rng(args.seed)
                seed_responses(rng, args.customers, args.cases)
                _seed_cases(rng)
                refresh_statistics()  # as the refresh_statistics job keeps them
                agent, manager = _people()
                print(f"database:   {describe(app)} (set-up {time.perf_counter() - started:.0f} s,"
                      " not timed)")  # fmt: skip
                print(f"cases:      {_count(Case):,} ({_open():,} open)")
                print(f"agent:      {agent.email}, team {agent.team.name}")
                emails = {"agent": agent.email, "manager": manager.email}
            _time_scenarios(app, args.requests, emails, profile=args.profile)
        finally:
            drop_bench_app(app, SCHEMA)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _open() -> int:
    return db.session.scalar(select(func.count()).where(Case.status.in_(("new", "in_progress"))))


def _people() -> tuple[User, User]:
    """The busiest active agent, and a manager (made here) with a password to sign in."""
    busiest = db.session.execute(
        select(Case.assignee_id, func.count())
        .join(User, User.id == Case.assignee_id)
        .where(User.active.is_(True))
        .group_by(Case.assignee_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    agent = db.session.get(User, busiest[0])
    manager = User(email="manager@bench.test", name="Bench Manager", role="manager")
    for user in (agent, manager):
        user.set_password(PASSWORD)
    db.session.add(manager)
    db.session.commit()
    return agent, manager


def _time_scenarios(app, requests: int, emails: dict[str, str], *, profile: bool) -> None:
    clients = {}
    for role, email in emails.items():
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code in (302, 303), response.status_code
        clients[role] = client
    every = []
    print(f"{'scenario':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  rows")
    for name, role, path in SCENARIOS:
        client = clients[role]
        first = client.get(path)  # warm: template compiled, plans cached
        assert first.status_code == 200, (path, first.status_code)
        rows = first.get_data(as_text=True).count('class="case-link"')
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        every += timings
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{name:<32} {statistics.median(timings):8.1f} {p95:8.1f} {max(timings):8.1f}"
              f"  {rows}")  # fmt: skip
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            clients["manager"].get("/cases")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    p95 = statistics.quantiles(every, n=20)[-1]
    verdict = "ok" if p95 < TARGET_P95_MS else f"over {TARGET_P95_MS} ms"
    print(f"{'all requests':<32} {statistics.median(every):8.1f} {p95:8.1f} {max(every):8.1f}"
          f"  [{verdict}]")  # fmt: skip
    print(f"load:       {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")


# Set-up ----------------------------------------------------------------------------------

RULES = (  # (rule, priority, deadline, band of scores it takes)
    ("a_detractor", "urgent", 24, range(0, 7)),
    ("b_detractor", "high", 48, range(0, 7)),
    ("cd_grow_detractor", "normal", 72, range(0, 7)),
    ("cd_retain_detractor", "normal", 120, range(0, 7)),
    ("ab_promoter", "low", 168, range(9, 11)),
    ("passive_negative_comment", "normal", 120, range(7, 9)),
)


def _seed_cases(rng: np.random.Generator) -> None:
    """One case per response, as a year of work leaves them."""
    now = db.session.scalar(select(func.max(Response.answered_at))) + timedelta(days=3)
    teams = {t.name: t.id for t in db.session.scalars(select(Team))}
    people = db.session.execute(select(User.id, User.team_id).where(User.active.is_(True))).all()
    rows = db.session.execute(
        select(Response.id, Response.customer_id, Response.score, Response.comment,
               Response.language, Response.answered_at).order_by(Response.id)
    ).all()  # fmt: skip
    count = len(rows)
    # Ages spread over the year; the newest ~8 % are still open.
    age_rank = np.argsort(np.argsort([-r[5].timestamp() for r in rows]))
    is_open = age_rank < count * 0.08
    status = np.where(
        is_open,
        rng.choice(("new", "in_progress"), count, p=(0.55, 0.45)),
        rng.choice(("resolved", "no_action"), count, p=(0.9, 0.1)),
    )
    person = rng.integers(0, len(people), count)
    to_queue = rng.random(count) < 0.2
    queue_ids = list(teams.values())
    first_action_hours = rng.gamma(2.0, 6.0, count)
    close_hours = first_action_hours + rng.gamma(2.0, 18.0, count)

    def case_rows():
        for n, (response_id, customer_id, score, comment, language, answered) in enumerate(rows):
            rule, priority, hours, _ = next(
                (r for r in RULES if score in r[3] and rng.random() < 0.6), RULES[2]
            )
            created = answered + timedelta(minutes=10)
            due = answered + timedelta(hours=hours)
            if is_open[n]:  # open cases: due around now, some already past
                due = now + timedelta(hours=float(rng.normal(12, 30)))
            themes = tag_themes(comment, language) if comment else []
            closed = status[n] in ("resolved", "no_action")
            assignee, team = people[int(person[n])]
            if to_queue[n]:
                assignee, team = None, queue_ids[n % len(queue_ids)]
            yield (
                response_id, customer_id, response_id, rule, "Call the customer",
                assignee, team, priority, str(status[n]), db_time(due),
                "Called; agreed on a fix." if closed else "", db_time(created), db_time(created),
                db_time(created + timedelta(hours=float(first_action_hours[n])))
                if closed or status[n] == "in_progress" else None,
                db_time(created + timedelta(hours=float(close_hours[n]))) if closed else None,
                "," + ",".join(themes) + "," if themes else "",
                db_time(created),
            )  # fmt: skip

    write_rows("cases", ("id", "customer_id", "response_id", "rule_key", "title", "assignee_id",
                         "team_id", "priority", "status", "due_at", "outcome", "created_at",
                         "updated_at", "first_action_at", "closed_at", "themes",
                         "notified_at"),
               case_rows())  # fmt: skip
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                                "(SELECT max(id) FROM cases))"))  # fmt: skip
        db.session.commit()


if __name__ == "__main__":
    main()
