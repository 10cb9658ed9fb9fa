"""Import 1,000,000 transactions from a Nordic-style CSV, next to a plain loader of the same file.

    .venv/bin/python bench/import_transactions.py                 # SQLite in a temp folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/import_transactions.py              # PostgreSQL

The file is `;`-separated with decimal commas and dd-mm-yyyy dates, half the rows carrying a
transaction_id. "import" is `run_import` + commit (decode, parse and check every row, stage,
merge with the unique constraints). "plain" is what a loader with no checks does with the
same file in the same run: decode, `csv.reader`, the customer looked up in a dict, date and
amount rewritten by slicing and `replace`, then `executemany` (SQLite) or COPY (PostgreSQL)
of the rows in file order into the same table, emptied first, with the same indexes. The
ratio is import rows/s / plain rows/s (issue 11 asks for at least 0.40 on SQLite). On
PostgreSQL it works in a schema of its own in the database `bench` (created if missing), so
no other database is touched.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo_seed import bench_app  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from feedback.customers.imports import run_import  # noqa: E402
from feedback.customers.models import CurrencyRate, Customer  # noqa: E402
from feedback.extensions import db  # noqa: E402

SCHEMA = "bench_import"
CURRENCIES = ("DKK", "SEK", "NOK", "EUR")


def _csv(rows: int, customers: int, seed: int) -> bytes:
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    out = io.StringIO()
    out.write("customer_external_id;date;amount;currency;kind;transaction_id\r\n")
    for n in range(rows):
        customer = rng.randrange(customers) + 1
        day = start + timedelta(days=rng.randrange(1000))
        cents = int(rng.lognormvariate(10, 1.2))
        kind = "credit" if n % 40 == 0 else "order"
        currency = CURRENCIES[customer % 4]
        whole, fraction = divmod(cents, 100)
        text_amount = f"{whole:,}".replace(",", ".") + f",{fraction:02d}"
        tx_id = f"F{n}" if n % 2 else ""
        out.write(f"C{customer};{day:%d-%m-%Y};{text_amount};{currency};{kind};{tx_id}\r\n")
    return out.getvalue().encode("utf-8")


def _plain_load(data: bytes) -> float:
    """The same file the way a loader with no checks would put it in: seconds taken."""
    started = time.perf_counter()
    connection = db.session.connection()
    customers = dict(db.session.execute(select(Customer.external_id, Customer.id)).all())
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";")
    next(reader)
    rows = (
        (customers[c], f"{d[6:]}-{d[3:5]}-{d[:2]}", a.replace(".", "").replace(",", "."),
         cur, k, t or None, None if t else f"h{n}")
        for n, (c, d, a, cur, k, t) in enumerate(reader)
    )  # fmt: skip
    columns = "customer_id, date, amount, currency, kind, external_id, fingerprint"
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY transactions ({columns}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        raw.cursor().executemany(
            f"INSERT INTO transactions ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows
        )
    db.session.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app = bench_app(SCHEMA, fresh=True, workdir=Path(workdir))
        with app.app_context():
            backend = db.engine.dialect.name
            db.session.execute(
                insert(Customer),
                [
                    {"id": i, "external_id": f"C{i}", "name": f"Kunde {i} ApS", "language": "da"}
                    for i in range(1, args.customers + 1)
                ],
            )
            for code, rate in (("DKK", "0.134"), ("SEK", "0.087"), ("NOK", "0.085")):
                db.session.add(CurrencyRate(currency=code, rate=Decimal(rate)))
            db.session.commit()
            data = _csv(args.rows, args.customers, args.seed)
            print(f"{backend}: {args.rows:,} rows, {len(data) / 1e6:.1f} MB CSV, "
                  f"{args.customers:,} customers")  # fmt: skip

            started = time.perf_counter()
            report = run_import("transactions", data, base_currency="EUR")
            db.session.commit()
            imported = time.perf_counter() - started
            assert report.ok and report.created == args.rows, report.problem_lines()[:5]

            started = time.perf_counter()
            again = run_import("transactions", data, base_currency="EUR")
            db.session.commit()
            reimported = time.perf_counter() - started
            assert again.created == 0 and again.unchanged == args.rows

            db.session.execute(text("DELETE FROM transactions"))
            db.session.commit()
            plain = _plain_load(data)
            assert db.session.scalar(text("SELECT count(*) FROM transactions")) == args.rows
    rate = args.rows / imported
    print(f"  import     {imported:7.2f} s  {rate:>10,.0f} rows/s")
    print(f"  re-import  {reimported:7.2f} s  {args.rows / reimported:>10,.0f} rows/s (adds 0)")
    print(f"  plain load {plain:7.2f} s  {args.rows / plain:>10,.0f} rows/s (csv + "
          f"{'COPY' if backend == 'postgresql' else 'executemany'}, no checks)")  # fmt: skip
    print(
        f"  ratio import/plain: {plain / imported:.2f} of the plain loader's rows/s "
        "(issue 11: at least 0.40 on SQLite)"
    )


if __name__ == "__main__":
    main()
