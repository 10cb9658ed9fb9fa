#!/usr/bin/env python3
"""Push a night's orders from an ERP's CSV export to Feedback Loop through its REST API.

    FEEDBACK_API_TOKEN=fl_... python examples/push_orders.py orders.csv \
        --url https://feedback.example.com [--connections 2]

The file has the transactions import's columns (customer_external_id, date, amount,
currency, optionally kind and transaction_id; `;`, `,` or tab separated, decimal commas
allowed). The rows go into a transaction batch in requests of up to 10,000 (two at a time
with --connections 2, about half again as fast on a server with two workers), and the
batch's commit saves them all at once: the night's orders land together or not at all.
Every call carries an Idempotency-Key made from the file's content, so running the script
again after a failure picks up where it stopped, and running it twice by mistake adds
nothing twice. A 429 waits for Retry-After; a 5xx or a dropped connection is retried with
backoff; a 422 prints every problem, drops the batch and stops. Standard library only, so
it runs on any machine with Python 3.9+.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BATCH = 10_000
RETRIES = 6


def read_rows(data: bytes) -> list[dict]:
    text = data.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=";,\t")
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    # Empty cells are left out: the API treats a missing optional field as a blank cell.
    return [{k: v for k, v in row.items() if k and v not in (None, "")} for row in reader]


def post(url: str, token: str, body: bytes, key: str, method: str = "POST") -> dict:
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
    })  # fmt: skip
    for attempt in range(RETRIES):
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            problem = json.loads(error.read() or b"{}")
            if error.code == 429:
                time.sleep(int(error.headers.get("Retry-After", "5")))
                continue
            if error.code >= 500 and attempt < RETRIES - 1:
                time.sleep(2**attempt)
                continue
            raise Refused(error.code, problem) from None
        except (urllib.error.URLError, TimeoutError) as error:
            if attempt == RETRIES - 1:
                raise SystemExit(f"cannot reach {url}: {error}") from None
            time.sleep(2**attempt)
    raise SystemExit(f"{url} kept refusing; try again later")


class Refused(Exception):
    def __init__(self, status: int, problem: dict) -> None:
        super().__init__(_explain(status, problem))


def _explain(status: int, problem: dict) -> str:
    lines = [f"HTTP {status}: {problem.get('detail', problem)}"]
    for error in problem.get("errors", [])[:50]:
        where = f"row {error['row']}, " if "row" in error else ""
        lines.append(f"  {where}{error.get('field') or '-'}: {error['message']}")
    return "\n".join(lines)


def push(path: str, base_url: str, token: str, out=sys.stdout, connections: int = 1) -> dict:
    with open(path, "rb") as file:
        data = file.read()
    rows = read_rows(data)
    url = base_url.rstrip("/") + "/api/v1/transactions/batches"
    key = f"orders-{hashlib.sha256(data).hexdigest()[:16]}"
    batch = post(url, token, b"", key=f"{key}-open")
    batch_url = f"{url}/{batch['id']}"

    def add(number: int) -> int:
        start = number * BATCH
        body = json.dumps({"rows": rows[start : start + BATCH]}).encode()
        return post(f"{batch_url}/rows", token, body, key=f"{key}-{number}")["added"]

    pages = range((len(rows) + BATCH - 1) // BATCH)
    try:
        with ThreadPoolExecutor(max_workers=max(1, connections)) as pool:
            for number, added in enumerate(pool.map(add, pages)):
                print(f"part {number + 1} of {len(pages)}: {added} rows sent", file=out)
        result = post(f"{batch_url}/commit", token, b"", key=f"{key}-commit")
    except Refused as refused:
        if batch["status"] == "open":  # tidy up; a fixed file is a new batch
            with contextlib.suppress(Refused, SystemExit):
                post(batch_url, token, b"", key=f"{key}-drop", method="DELETE")
        raise SystemExit(str(refused)) from None
    totals = {name: result[name] for name in ("rows", "created", "updated", "unchanged")}
    print(f"{totals['rows']} rows: {totals['created']} created, {totals['updated']} updated, "
          f"{totals['unchanged']} unchanged", file=out)  # fmt: skip
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the CSV export")
    parser.add_argument("--url", default=os.environ.get("FEEDBACK_URL", "http://127.0.0.1:5000"))
    parser.add_argument("--connections", type=int, default=1, help="requests at a time")
    args = parser.parse_args()
    token = os.environ.get("FEEDBACK_API_TOKEN")
    if not token:
        raise SystemExit("set FEEDBACK_API_TOKEN to a token with the write scope")
    push(args.file, args.url, token, connections=args.connections)


if __name__ == "__main__":
    main()
