"""Time webhook delivery by one worker to a fast local receiver (target: 500 events/s).

    .venv/bin/python bench/webhooks.py                           # PostgreSQL
    .venv/bin/python bench/webhooks.py --database-url sqlite     # SQLite
    .venv/bin/python bench/webhooks.py --events 5000 --threads 4 --profile

The receiver is a ThreadingHTTPServer answering 204 in a process of its own (so it does not
share the worker's GIL), on 127.0.0.1 with keep-alive. Set-up, not timed: one endpoint for
every event type, N case events written to the outbox in one transaction (each its own
case, so per-subject ordering never holds a delivery back). Timed: `dispatch.run` as the job
runs it, fan-out and delivery with every commit, until all N have succeeded; the receiver's
count and every delivery's state are then checked. On PostgreSQL it works in the database
`bench` (created if missing) and a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo_seed import (  # noqa: E402
    add_database_argument,
    bench_app,
    describe,
    drop_bench_app,
    use_database,
)
from sqlalchemy import func, select, text  # noqa: E402

from feedback.extensions import db  # noqa: E402
from feedback.outbox import emit_many  # noqa: E402
from feedback.webhooks import dispatch, services  # noqa: E402
from feedback.webhooks.models import WebhookDelivery  # noqa: E402

SCHEMA = "bench_webhooks"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET = 500  # events/s, one worker


def _serve(port_out, count) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with count.get_lock():
                count.value += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_argument(parser, DEFAULT_URL)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8,
                        help="POSTs in flight (FEEDBACK_WEBHOOKS_THREADS)")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile the run, print the top")
    parser.add_argument("--analyze", action="store_true",
                        help="fan out first (not timed) and ANALYZE, as autovacuum would have: "
                             "times the delivery alone, with the planner's statistics")  # fmt: skip
    args = parser.parse_args()
    use_database(args.database_url)

    count = multiprocessing.Value("i", 0)
    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_serve, args=(child, count), daemon=True)
    receiver.start()
    port = parent.recv()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as workdir:
        app = bench_app(SCHEMA, fresh=True, workdir=Path(workdir))
        try:
            with app.app_context():
                _run(app, args, f"http://127.0.0.1:{port}/hook", count)
        finally:
            drop_bench_app(app, SCHEMA)
            receiver.terminate()


def _run(app, args, url: str, count) -> None:
    services.add_endpoint(url, "*", description="bench")
    db.session.commit()
    started = time.perf_counter()
    for start in range(0, args.events, 5000):
        emit_many([
            ("case.created", f"case:{n}", {"case": {"id": n, "status": "new", "priority": "high",
                                                    "title": "Call the customer today"},
                                           "customer": {"id": n, "external_id": f"K{n}",
                                                        "name": f"Kunde {n} A/S"},
                                           "url": f"https://loop.example.com/cases/{n}"})
            for n in range(start + 1, min(start + 5000, args.events) + 1)
        ])  # fmt: skip
    db.session.commit()
    print(f"database:   {describe(app)} (outbox of {args.events:,} events written in "
          f"{time.perf_counter() - started:.1f} s, not timed)")  # fmt: skip
    print(f"threads:    {args.threads} POST(s) in flight per batch of {dispatch.BATCH}")
    if args.analyze:
        while dispatch.fan_out()[0]:
            pass
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print("analyzed:   fanned out and ANALYZEd before timing (delivery alone is timed)")
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    total = dispatch.DeliveryReport()
    config = {**app.config, "FEEDBACK_WEBHOOKS_THREADS": args.threads}
    while True:
        report = dispatch.run(config, budget_seconds=3600)
        for name in ("events", "queued", "sent", "succeeded", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if not report.sent and not report.events:
            break
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    succeeded = db.session.scalar(select(func.count()).where(WebhookDelivery.state == "succeeded"))
    assert succeeded == args.events == count.value == total.succeeded, (
        succeeded, count.value, total)  # fmt: skip
    rate = args.events / seconds
    verdict = "ok" if rate >= TARGET else f"under {TARGET}/s"
    print(f"delivered:  {args.events:,} events in {seconds:.2f} s: {rate:,.0f} events/s "
          f"[{verdict}]; receiver counted {count.value:,}")  # fmt: skip
    print(f"load:       {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
