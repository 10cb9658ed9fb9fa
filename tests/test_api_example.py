"""examples/push_orders.py against the app served over real HTTP."""

from __future__ import annotations

import importlib.util
import io
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from feedback.customers.models import Transaction, TransactionBatch
from feedback.extensions import db
from feedback.integrations import tokens

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "push_orders.py"


@pytest.fixture
def push_orders():
    spec = importlib.util.spec_from_file_location("push_orders", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _secret() -> str:
    _, secret = tokens.create_token("ERP nightly", "write")
    db.session.commit()
    return secret


def test_a_nights_orders_go_in_once_however_often_the_script_runs(
    push_orders, served, tmp_path, create_customer
):
    create_customer(external_id="10042")
    create_customer(external_id="10043")
    export = tmp_path / "orders.csv"
    export.write_text(
        "customer_external_id;date;amount;currency;kind;transaction_id\n"
        "10042;01-12-2026;1.250,50;EUR;;F-1\n"
        "10043;01-12-2026;99,00;EUR;;\n"
        "10043;01-12-2026;-10,00;EUR;credit;\n",
        encoding="utf-8",
    )
    secret = _secret()
    out = io.StringIO()
    first = push_orders.push(str(export), served, secret, out=out)
    assert first == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
    again = push_orders.push(str(export), served, secret, out=io.StringIO())
    assert again == first  # replayed by its Idempotency-Key, not run again
    db.session.expire_all()
    amounts = sorted(map(str, db.session.scalars(select(Transaction.amount))))
    assert amounts == ["-10.00", "1250.50", "99.00"]
    assert "3 created" in out.getvalue()


def test_a_large_export_goes_in_parts_over_two_connections(
    push_orders, served, tmp_path, create_customer, monkeypatch
):
    create_customer(external_id="10042")
    monkeypatch.setattr(push_orders, "BATCH", 2)  # 5 rows: parts of 2, 2 and 1
    export = tmp_path / "orders.csv"
    export.write_text("customer_external_id,date,amount,currency,transaction_id\n" + "".join(
        f"10042,2026-12-0{n},{n}0.00,EUR,F-{n}\n" for n in range(1, 6)
    ), encoding="utf-8")  # fmt: skip
    out = io.StringIO()
    totals = push_orders.push(str(export), served, _secret(), out=out, connections=2)
    assert totals == {"rows": 5, "created": 5, "updated": 0, "unchanged": 0}
    assert "part 3 of 3: 1 rows sent" in out.getvalue()
    assert db.session.scalar(select(func.count()).select_from(Transaction)) == 5


def test_a_bad_export_stops_with_every_problem_and_saves_nothing(
    push_orders, served, tmp_path, create_customer
):
    create_customer(external_id="10042")
    export = tmp_path / "orders.csv"
    export.write_text(
        "customer_external_id;date;amount;currency\n"
        "10042;01-12-2026;12,00;EUR\n"
        "99999;31-02-2026;12,00;EUR\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as stopped:
        push_orders.push(str(export), served, _secret(), out=io.StringIO())
    message = str(stopped.value)
    assert "HTTP 422" in message
    assert "row 1, customer_external_id: unknown customer '99999'" in message
    assert "row 1, date:" in message
    assert db.session.scalar(select(func.count()).select_from(Transaction)) == 0
    db.session.expire_all()
    assert db.session.scalars(select(TransactionBatch.status)).all() == ["abandoned"]
