"""Push 1,000,000 transactions through POST /api/v1/transactions, 10,000 rows a request,
next to the CSV import of the same rows in the same run.

    .venv/bin/python bench/api_bulk_upsert.py                      # SQLite in a temp folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/api_bulk_upsert.py                   # PostgreSQL (database bench)

"import" is `run_import` + commit of a `;`-separated CSV (decimal commas, dd-mm-yyyy), as
bench/import_transactions.py does. "API" is a client in another process sending the same
rows as JSON (ISO dates, numbers), one request after the other over one keep-alive
connection, to the app served by werkzeug in this process; its clock runs from the first
request to the last response, JSON encoding done beforehand (an ERP has its export ready).
Two ways (--mode, both by default, each into an empty table): "bulk" sends each request to
POST /api/v1/transactions, saved as it arrives; "batch" opens a transaction batch, adds the
requests to it and commits it, the clock running from the open to the commit's answer.
The issue asks for at least half the import's rows/s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo_seed import bench_app  # noqa: E402
from import_transactions import _csv  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from feedback.customers.imports import run_import  # noqa: E402
from feedback.customers.models import CurrencyRate, Customer  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.integrations.tokens import create_token  # noqa: E402

SCHEMA = "bench_api"
BATCH = 10_000


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args) -> None:  # a line per request would time the terminal
        pass


def _bodies(data: bytes) -> list[bytes]:
    """The CSV's rows as API requests of BATCH rows: ISO dates and JSON numbers."""
    lines = data.decode("utf-8").split("\r\n")[1:-1]
    bodies = []
    for start in range(0, len(lines), BATCH):
        rows = []
        for line in lines[start : start + BATCH]:
            customer, day, amount, currency, kind, tx_id = line.split(";")
            row = {
                "customer_external_id": customer,
                "date": f"{day[6:]}-{day[3:5]}-{day[:2]}",
                "amount": float(amount.replace(".", "").replace(",", ".")),
                "currency": currency,
                "kind": kind,
            }
            if tx_id:
                row["transaction_id"] = tx_id
            rows.append(row)
        bodies.append(json.dumps({"rows": rows}).encode())
    return bodies


def _client(url: str, secret: str, data: bytes, batch: bool, connections: int, results) -> None:
    """Send every body: to the bulk upsert one by one, or (batch) into a batch opened first
    and committed last, over `connections` connections at once. Puts ("ok", seconds,
    [seconds per row request], commit seconds)."""
    import requests

    bodies = _bodies(data)
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    )
    took = []
    started = time.perf_counter()
    target = url
    if batch:
        opened = session.post(f"{url}/batches", headers={"Idempotency-Key": "night-open"})
        if opened.status_code != 201:
            results.put(("error", opened.status_code, opened.text[:500]))
            return
        target = f"{url}/batches/{opened.json()['id']}"
    local = threading.local()

    def send(number: int) -> requests.Response:
        if not hasattr(local, "session"):  # one keep-alive connection per client thread
            local.session = requests.Session()
            local.session.headers.update(session.headers)
        sent = time.perf_counter()
        response = local.session.post(
            f"{target}/rows" if batch else target, data=bodies[number],
            headers={"Idempotency-Key": f"{batch}-night-{number}"},
        )  # fmt: skip
        took.append(time.perf_counter() - sent)
        return response

    with ThreadPoolExecutor(max_workers=connections) as pool:
        for response in pool.map(send, range(len(bodies))):
            if response.status_code != 200:
                results.put(("error", response.status_code, response.text[:500]))
                return
    committed = 0.0
    if batch:
        sent = time.perf_counter()
        response = session.post(f"{target}/commit", headers={"Idempotency-Key": "night-commit"})
        committed = time.perf_counter() - sent
        if response.status_code != 200 or response.json()["created"] != sum(
            len(json.loads(body)["rows"]) for body in bodies
        ):
            results.put(("error", response.status_code, response.text[:500]))
            return
    results.put(("ok", time.perf_counter() - started, took, committed))


def _empty_transactions() -> None:
    """Each run starts from an empty table, as the import did: TRUNCATE on PostgreSQL, where
    a DELETE would leave a million dead rows in the table and its index for the next run."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE transactions"))
    else:
        db.session.execute(text("DELETE FROM transactions"))
    db.session.commit()


def _push(app, args, url: str, secret: str, data: bytes) -> dict:
    """Each mode's client run against the server at `url`, checked, then emptied."""
    modes = ("bulk", "batch") if args.mode == "both" else (args.mode,)
    outcomes = {}
    for mode in modes:
        results = multiprocessing.get_context("fork").Queue()
        client = multiprocessing.get_context("fork").Process(
            target=_client, args=(url, secret, data, mode == "batch", args.connections, results)
        )
        client.start()
        outcome = results.get()
        client.join()
        if outcome[0] != "ok":
            sys.exit(f"API call failed ({mode}): {outcome[1]} {outcome[2]}")
        outcomes[mode] = outcome[1:]
        with app.app_context():
            stored = db.session.scalar(text("SELECT count(*) FROM transactions"))
            assert stored == args.rows, stored
            _empty_transactions()
    return outcomes


@contextmanager
def _server(app, workers: int, workdir: str):
    """The API's base URL: the app served by werkzeug in this process (workers=0), or by
    gunicorn with that many worker processes, as `make demo` serves it."""
    if not workers:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/api/v1/transactions"
        finally:
            server.shutdown()
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    if database.startswith("postgresql"):
        database += f"?options=-csearch_path%3D{SCHEMA}"
    env = {**os.environ, "DATABASE_URL": database, "FEEDBACK_SECRET_KEY": "bench-only",
           "FEEDBACK_SCHEDULER": "off", "FEEDBACK_API_RATE_LIMIT": "100000 per minute"}  # fmt: skip
    with app.app_context():
        db.engine.dispose()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--timeout", "600", "--log-level", "warning", "feedback.wsgi:app"],
        env=env,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/api/v1/transactions"
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1,
                        help="gunicorn worker processes; 0: werkzeug in this process")  # fmt: skip
    parser.add_argument("--connections", type=int, default=1,
                        help="requests in flight at once (each on its own connection)")  # fmt: skip
    parser.add_argument("--mode", choices=("both", "bulk", "batch"), default="both",
                        help="bulk: an upsert per request; batch: a batch, one commit")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app = bench_app(SCHEMA, fresh=True, workdir=Path(workdir))
        app.config["FEEDBACK_API_RATE_LIMIT"] = "100000 per minute"
        with app.app_context():
            backend = db.engine.dialect.name
            db.session.execute(insert(Customer), [
                {"id": i, "external_id": f"C{i}", "name": f"Kunde {i} ApS", "language": "da"}
                for i in range(1, args.customers + 1)
            ])  # fmt: skip
            for code, rate in (("DKK", "0.134"), ("SEK", "0.087"), ("NOK", "0.085")):
                db.session.add(CurrencyRate(currency=code, rate=rate))
            _, secret = create_token("bench ERP", "write")
            db.session.commit()
            data = _csv(args.rows, args.customers, args.seed)
            print(f"{backend}: {args.rows:,} transactions, {args.customers:,} customers")

            started = time.perf_counter()
            report = run_import("transactions", data, base_currency="EUR")
            db.session.commit()
            imported = time.perf_counter() - started
            assert report.ok and report.created == args.rows, report.problem_lines()[:5]
            _empty_transactions()

        with _server(app, args.workers, workdir) as url:
            outcomes = _push(app, args, url, secret, data)
    import_rate = args.rows / imported
    server = f"gunicorn, {args.workers} workers" if args.workers else "werkzeug"
    print(
        f"  CSV import  {imported:7.2f} s  {import_rate:>10,.0f} rows/s; API requests "
        f"{args.connections} at a time ({server})"
    )
    for mode, (pushed, took, committed) in outcomes.items():
        api_rate = args.rows / pushed
        tenth = max(1, len(took) // 10)
        first, last = (sum(part) / len(part) * 1000 for part in (took[:tenth], took[-tenth:]))
        print(f"  API {mode:<6}  {pushed:7.2f} s  {api_rate:>10,.0f} rows/s  "
              f"({len(took)} requests of {BATCH:,}: first tenth {first:.0f} ms each, last "
              f"tenth {last:.0f} ms, slowest {max(took) * 1000:.0f} ms"
              + (f"; commit {committed:.2f} s)" if mode == "batch" else ")"))  # fmt: skip
        print(f"  ratio API {mode}/import: {api_rate / import_rate:.2f} (issue 13: at least 0.50)")


if __name__ == "__main__":
    main()
