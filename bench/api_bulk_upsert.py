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
The issue asks for at least half the import's rows/s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
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


def _client(url: str, secret: str, data: bytes, results) -> None:
    import requests

    bodies = _bodies(data)
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    )
    took = []
    started = time.perf_counter()
    for number, body in enumerate(bodies):
        sent = time.perf_counter()
        response = session.post(url, data=body, headers={"Idempotency-Key": f"night-{number}"})
        took.append(time.perf_counter() - sent)
        if response.status_code != 200:
            results.put(("error", response.status_code, response.text[:500]))
            return
    results.put(("ok", time.perf_counter() - started, took))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
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
            db.session.execute(text("DELETE FROM transactions"))
            db.session.commit()

        server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/api/v1/transactions"
        results = multiprocessing.get_context("fork").Queue()
        client = multiprocessing.get_context("fork").Process(
            target=_client, args=(url, secret, data, results)
        )
        client.start()
        outcome = results.get()
        client.join()
        server.shutdown()
        if outcome[0] != "ok":
            sys.exit(f"API call failed: {outcome[1]} {outcome[2]}")
        _, pushed, took = outcome
        with app.app_context():
            stored = db.session.scalar(text("SELECT count(*) FROM transactions"))
            assert stored == args.rows, stored
    import_rate, api_rate = args.rows / imported, args.rows / pushed
    print(f"  CSV import  {imported:7.2f} s  {import_rate:>10,.0f} rows/s")
    tenth = max(1, len(took) // 10)
    first, last = (sum(part) / len(part) * 1000 for part in (took[:tenth], took[-tenth:]))
    print(f"  API upsert  {pushed:7.2f} s  {api_rate:>10,.0f} rows/s  "
          f"({len(took)} requests of {BATCH:,}: first tenth {first:.0f} ms each, last tenth "
          f"{last:.0f} ms, slowest {max(took) * 1000:.0f} ms)")  # fmt: skip
    print(f"  ratio API/import: {api_rate / import_rate:.2f} (issue 13: at least 0.50)")


if __name__ == "__main__":
    main()
