"""`feedback customers|contacts|transactions import` with good and bad input."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from feedback.customers.models import Contact, CurrencyRate, Customer, SegmentRun, Transaction
from feedback.extensions import db


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_three_imports_in_a_row_then_segments(runner, tmp_path, create_user):
    create_user("ejer@firma.dk", role="agent")
    db.session.add(CurrencyRate(currency="SEK", rate=Decimal("0.087")))
    db.session.commit()
    customers = _write(
        tmp_path,
        "kunder.csv",
        "external_id;name;owner_email;potential;language\r\n"
        "K1;Bjørnstad Elektro AS;ejer@firma.dk;high;nb\r\nK2;Ölands Trä AB;;low;sv\r\n",
        "cp1252",
    )
    result = runner.invoke(args=["customers", "import", customers, "--no-recompute"])
    assert result.exit_code == 0, result.output
    assert "customers: 2 rows read; 2 were created" in result.output
    assert _count(SegmentRun) == 0

    contacts = _write(
        tmp_path,
        "kontakter.csv",
        "customer_external_id,name,email,language\nK1,Kari,kari@bjornstad.no,nb\n",
    )
    result = runner.invoke(args=["contacts", "import", contacts])
    assert result.exit_code == 0, result.output
    assert _count(Contact) == 1
    assert _count(SegmentRun) == 0  # contacts don't move revenue

    transactions = _write(
        tmp_path,
        "fakturaer.csv",
        "customer_external_id\tdate\tamount\tcurrency\tkind\n"
        "K1\t01.10.2026\t12 500,00\tSEK\torder\nK2\t02.10.2026\t1 000,00\tSEK\torder\n",
    )
    result = runner.invoke(args=["transactions", "import", transactions, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 would be created" in result.output and "Dry run" in result.output
    assert _count(Transaction) == 0

    result = runner.invoke(args=["transactions", "import", transactions])
    assert result.exit_code == 0, result.output
    assert "2 were created" in result.output and "Segments recomputed" in result.output
    assert _count(SegmentRun) == 1
    again = runner.invoke(args=["transactions", "import", transactions])
    assert "0 were created, 0 were updated, 2 unchanged" in again.output
    assert _count(Transaction) == 2
    assert (
        db.session.scalar(select(Customer.name).where(Customer.external_id == "K2"))
        == "Ölands Trä AB"
    )


def test_bad_file_exits_non_zero_with_one_line_per_problem(runner, tmp_path):
    path = _write(
        tmp_path,
        "bad.csv",
        "external_id;name;owner_email;potential;language\n"
        "K1;Good AS;;high;nb\nK2;Bad AS;nobody@x.no;maybe;fi\n",
    )
    result = runner.invoke(args=["customers", "import", path])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{path}: line 3, column potential: unknown potential 'maybe' (use high, medium or low)",
        f"{path}: line 3, column language: unknown language 'fi' (use en, da, sv or nb)",
        f"{path}: line 3, column owner_email: no staff user with e-mail nobody@x.no "
        "(create the user first)",
        "customers: 3 problems in 2 rows; nothing was saved.",
    ]
    assert "Traceback" not in result.output
    assert _count(Customer) == 0


def test_missing_file_and_binary_garbage(runner, tmp_path):
    result = runner.invoke(args=["transactions", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "No such file" in result.output
    garbage = tmp_path / "photo.jpg"
    garbage.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(args=["transactions", "import", str(garbage)])
    assert result.exit_code == 1
    assert "neither UTF-8 nor Windows-1252" in result.output
    assert "Traceback" not in result.output
