"""CSV imports: every format variant Nordic ERPs and Excel write, every bad-row kind (all or
nothing, problems by line and column), and re-imports that add nothing."""

from __future__ import annotations

import codecs
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from feedback.customers.imports import run_import, transactions
from feedback.customers.imports.reading import read_csv
from feedback.customers.imports.values import (
    BadValue,
    amount_text,
    amount_texts,
    parse_amount,
    parse_date,
)
from feedback.customers.models import Contact, CurrencyRate, Customer, Transaction
from feedback.extensions import db


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _import(kind, text: str | bytes, *, dry_run=False, encoding="utf-8"):
    data = text if isinstance(text, bytes) else text.encode(encoding)
    report = run_import(kind, data, base_currency="EUR", dry_run=dry_run)
    if report.ok and not dry_run:
        db.session.commit()
    else:
        db.session.rollback()
    return report


@pytest.fixture
def two_customers(create_customer):
    db.session.add(CurrencyRate(currency="DKK", rate=Decimal("0.134")))
    db.session.commit()
    return create_customer("C1", "Østergaard Byg ApS"), create_customer("C2", "Ålund Maskin AB")


def _amounts() -> list[Decimal]:
    return list(db.session.scalars(select(Transaction.amount).order_by(Transaction.id)))


# values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.50", "1234.50"),
        ("1234,50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),
        ("1\u202f234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1.234.567,5", "1234567.50"),
        ("-99,5", "-99.50"),
        ("  42 ", "42.00"),
        ("0,125e", None),
        ("ten", None),
        ("1.234", None),  # ambiguous: thousands or decimals?
        ("12,345", None),
        ("1,2,3", None),
        ("1.23,4.5", None),
        ("12.345,678", None),
        ("", None),
        ("1.005", None),
        ("99.999", None),
        ("1234.567", None),  # three decimals
    ],
)
def test_amounts_in_every_spelling(raw, expected):
    if expected is None:
        with pytest.raises(BadValue):
            parse_amount(raw)
    else:
        assert parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize(
    "column",
    [
        ["1.234,50", "1234,50", "0,05", "-0,00", "0,00", "-12.345.678,90", "999,99"],
        ["1234567890123456,00", "12345678901234567,00"],  # 17 digits: too large
        ["007,50", "-99,5", " 42 ", "1 234,50", "1.234.567,5", "1234.50", "1,234.50"],
        ["1234.50", "-0.00", "0.10", "99", "1.005"],
        ["1.234,50", "ten", "1.234"],
        ["1,00", ""],
        ["", "1,00"],
        [],
    ],
)
def test_a_column_of_amounts_reads_as_each_amount_alone(column):
    try:
        expected = [amount_text(raw) for raw in column]
    except BadValue as exc:
        with pytest.raises(BadValue, match=re.escape(str(exc))):
            amount_texts(column)
    else:
        assert amount_texts(column) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05-02-2026", date(2026, 2, 5)),
        ("05.02.2026", date(2026, 2, 5)),
        ("2026-02-05", date(2026, 2, 5)),
        ("5.2.2026", date(2026, 2, 5)),
        ("29-02-2024", date(2024, 2, 29)),
    ],
)
def test_dates_in_nordic_and_iso_order(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw", ["31-02-2026", "2026-13-01", "02/05/2026", "5 Feb 2026", "", "29.02.2025"]
)
def test_impossible_or_unknown_dates_are_refused(raw):
    with pytest.raises(BadValue):
        parse_date(raw)


# format variants ------------------------------------------------------------------------

CUSTOMERS = (
    "external_id;name;owner_email;potential;language\n"
    "C10;Østergaard Byg ApS;;high;da\n"
    "C11;Ålund & Söner AB;;low;sv\n"
)


@pytest.mark.parametrize(
    ("variant", "data"),
    [
        ("utf-8", CUSTOMERS.encode("utf-8")),
        ("utf-8 with BOM", codecs.BOM_UTF8 + CUSTOMERS.encode("utf-8")),
        ("windows-1252", CUSTOMERS.encode("cp1252")),
        ("utf-16 (Excel unicode text)", CUSTOMERS.replace(";", "\t").encode("utf-16")),
        ("CRLF", CUSTOMERS.replace("\n", "\r\n").encode("utf-8")),
        ("CR only (old Mac)", CUSTOMERS.replace("\n", "\r").encode("utf-8")),
        ("comma", CUSTOMERS.replace(";", ",").encode("utf-8")),
        ("tab", CUSTOMERS.replace(";", "\t").encode("utf-8")),
        (
            "header case and spaces",
            CUSTOMERS.replace("external_id;name", " External_ID ; Name ").encode(),
        ),
        ("trailing blank lines", (CUSTOMERS + "\n\n;;;;\n").encode("utf-8")),
    ],
)
def test_customers_file_variants_keep_nordic_letters(variant, data):
    report = _import("customers", data)
    assert report.ok, (variant, report.problem_lines())
    assert report.created == 2
    names = set(db.session.scalars(select(Customer.name)))
    assert names == {"Østergaard Byg ApS", "Ålund & Söner AB"}, variant


def test_quoted_fields_may_hold_the_delimiter_and_line_breaks():
    data = (
        "external_id,name,potential\r\n"
        'C1,"Berg, Lund & Co AS",high\r\n'
        'C2,"Nordic ""Quality"" Ltd",medium\r\n'
        'C3,"Two\r\nlines AB",low\r\n'
        "C4,,low\r\n"
    )
    report = _import("customers", data)
    assert [str(p) for p in report.problems] == ["line 6, column name: name is empty"]
    report = _import("customers", data.replace("C4,,low\r\n", ""))
    assert report.ok, report.problem_lines()
    names = dict(db.session.execute(select(Customer.external_id, Customer.name)).all())
    assert names == {"C1": "Berg, Lund & Co AS", "C2": 'Nordic "Quality" Ltd', "C3": "Two lines AB"}


def test_transactions_in_every_amount_and_date_spelling(two_customers):
    data = (
        "customer_external_id;date;amount;currency;kind;transaction_id\n"
        "C1;05-02-2026;1.234,50;DKK;order;F-1\n"
        "C1;05.02.2026;1 234,50;dkk;order;F-2\n"
        "C1;2026-02-05;1234.50;DKK;;F-3\n"
        'C2;2026-02-05;"1\u00a0000,00";EUR;credit;K-1\n'
        "C2;2026-02-06;-250,00;EUR;;K-2\n"
    )
    report = _import("transactions", data)
    assert report.ok, report.problem_lines()
    assert report.created == 5
    assert _amounts() == [Decimal("1234.50")] * 3 + [Decimal("-1000.00"), Decimal("-250.00")]
    kinds = list(db.session.scalars(select(Transaction.kind).order_by(Transaction.id)))
    assert kinds == ["order", "order", "order", "credit", "credit"]


def _stored_transactions() -> list[tuple]:
    columns = ("customer_id", "date", "amount", "currency", "kind", "external_id", "fingerprint")
    rows = db.session.execute(select(*(getattr(Transaction, c) for c in columns))).all()
    return sorted((tuple(row) for row in rows), key=repr)


@pytest.fixture
def row_checks(monkeypatch):
    """How many times a transactions import went row by row instead of column-wise."""
    calls = []
    check = transactions._check
    monkeypatch.setattr(
        transactions, "_check", lambda *args, **kwargs: calls.append(1) or check(*args, **kwargs)
    )
    return calls


def test_plain_files_are_read_column_wise_and_store_what_row_by_row_stores(
    two_customers, row_checks
):
    rows = [
        "C1;05-02-2026;1.234,50;DKK;order;F-1",
        "C1;5.2.2026;1 234,50;dkk;order;F-2",
        "C1;2026-02-05;1234.50;DKK;;F-3",
        " C2 ;2026-02-05;1\u00a0000,00;EUR;credit; K-1 ",
        "C2;06-02-2026;-250,00;EUR;;K-2",
        "C2;06-02-2026;-250,00;EUR;;",  # no id, negative, no kind: a credit
        "C2;06-02-2026;250,00;EUR;Credit;",  # the same credit spelled the other way
        "C1;07-02-2026;0,00;DKK;credit;",
        "C1;07-02-2026;-0,00;DKK;;",
        "C1;08-02-2026;99,5;DKK;order;",
        "C1;08-02-2026;99,50;DKK;ORDER;",  # identical to the row above: occurrence 2
        "C1;09-02-2026;007,50;DKK;order;",
        "C1;09-02-2026;12.345.678,90;DKK;order;",
        "C1;10-02-2026;1234;DKK;order;",
    ]
    header = "customer_external_id;date;amount;currency;kind;transaction_id;note\r\n"
    plain = header + "".join(f"{row};x\r\n" for row in rows) + "\r\n"
    report = _import("transactions", plain)
    assert report.ok and (report.rows, report.created) == (14, 14), report.problem_lines()
    assert row_checks == []
    stored = _stored_transactions()
    assert sorted(a for _, _, a, *_ in stored if a < 0) == [Decimal(-1000)] + [Decimal(-250)] * 3
    # One quoted field and the file is read row by row, as it always was: the same rows.
    db.session.execute(text("DELETE FROM transactions"))
    db.session.commit()
    quoted = plain.replace(";x\r\n", ';"x"\r\n', 1)
    assert _import("transactions", quoted).created == 14
    assert row_checks == [1]
    assert _stored_transactions() == stored
    again = _import("transactions", plain)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 14)
    assert row_checks == [1]


@pytest.mark.parametrize(
    ("data", "plain"),
    [
        ("a;b\nC1;1\nC2;2\n", [[["C1", "C2"], ["1", "2"]]]),
        ("a\tb\r\nC1\t1\r\n\r\n\r\n", [[["C1"], ["1"]]]),
        ("a;b\n", []),
        ("a;b", []),
        ('a;b\nC1;"1"\n', None),  # quotes: the csv module reads those
        ("a;b\nC1;1\rC2;2\n", None),  # a lone CR ends a line for the csv module
        ("a;b\nC1;1\x00\n", None),
        ("a;b\nC1;1\n\nC2;2\n", [None]),  # a blank line in between
        ("a;b\nC1;1;\n", [None]),  # a field too many
        ("a;b\nC1\n", [None]),  # a field short
    ],
)
def test_which_files_are_plain(data, plain):
    blocks = read_csv(data.encode()).plain_blocks()
    assert (None if blocks is None else list(blocks)) == plain


def test_contacts_upsert_by_customer_and_email_and_never_touch_status(two_customers):
    report = _import(
        "contacts",
        "customer_external_id;name;email;language\n"
        "C1;Søren Østergaard;Soren@Ostergaard.dk;dansk\n"
        "C2;Åsa Ålund;asa@alund.se;\n",
    )
    assert report.ok and report.created == 2, report.problem_lines()
    asa = db.session.scalar(select(Contact).where(Contact.email == "asa@alund.se"))
    assert asa.language == "en"  # the customer's language (the fixture's default)
    asa.status = "opted_out"
    db.session.commit()
    report = _import(
        "contacts",
        "customer_external_id;name;email;language\n"
        "C1;Søren Østergaard;soren@ostergaard.dk;da\n"
        "C2;Åsa Ålund-Berg;ASA@alund.se;sv\n",
    )
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    db.session.refresh(asa)
    assert (asa.name, asa.language, asa.status) == ("Åsa Ålund-Berg", "sv", "opted_out")
    assert _count(Contact) == 2


def test_customers_upsert_and_empty_cells_keep_values(create_user):
    owner = create_user("Owner@Firma.dk", role="agent")
    _import(
        "customers",
        "external_id;name;owner_email;potential;language\nC1;Firma A/S;owner@firma.dk;high;da\n",
    )
    report = _import(
        "customers", "external_id;name;owner_email;potential;language\nC1;Firma A/S Holding;;;\n"
    )
    assert (report.created, report.updated) == (0, 1)
    customer = db.session.scalar(select(Customer))
    assert (customer.name, customer.owner_id, customer.potential, customer.language) == (
        "Firma A/S Holding",
        owner.id,
        "high",
        "da",
    )


# re-imports -----------------------------------------------------------------------------


def test_reimporting_the_same_file_adds_nothing(two_customers):
    data = (
        "customer_external_id;date;amount;currency;kind\n"
        "C1;01-03-2026;100,00;DKK;order\n"
        "C1;01-03-2026;100,00;DKK;order\n"  # a second, identical order on the same day
        "C2;02-03-2026;50,00;EUR;order\n"
    )
    first = _import("transactions", data)
    assert first.created == 3
    again = _import("transactions", data)
    assert (again.created, again.unchanged) == (0, 3)
    assert _count(Transaction) == 3
    # An overlapping export (old rows plus one new) adds only the new one.
    more = _import("transactions", data + "C2;03-03-2026;75,00;EUR;order\n")
    assert (more.created, more.unchanged) == (1, 3)
    assert _count(Transaction) == 4


def test_same_transaction_id_is_updated_not_duplicated(two_customers):
    header = "customer_external_id;date;amount;currency;kind;transaction_id\n"
    _import("transactions", header + "C1;01-03-2026;100,00;DKK;order;INV-7\n")
    report = _import("transactions", header + "C1;01-03-2026;120,00;DKK;order;INV-7\n")
    assert (report.created, report.updated) == (0, 1)
    assert _amounts() == [Decimal("120.00")]
    report = _import("transactions", header + "C1;01-03-2026;120,00;DKK;order;INV-7\n")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


def test_dry_run_counts_but_writes_nothing(two_customers):
    data = "customer_external_id;date;amount;currency\nC1;01-03-2026;100,00;DKK\n"
    report = _import("transactions", data, dry_run=True)
    assert report.ok and report.created == 1 and "Dry run" in report.summary()
    assert _count(Transaction) == 0
    _import("transactions", data)
    report = _import("transactions", data, dry_run=True)
    assert (report.created, report.unchanged) == (0, 1)


# bad rows: nothing written, each problem named by line and column ----------------------

GOOD_TX = "C1;01-03-2026;100,00;DKK;order\n"


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (
            "C9;01-03-2026;100,00;DKK;order",
            "line 3, column customer_external_id: unknown customer 'C9'",
        ),
        ("C1;31-02-2026;100,00;DKK;order", "line 3, column date: 31-02-2026 is not a real date"),
        ("C1;01-03-2026;ten;DKK;order", "line 3, column amount: 'ten' is not an amount"),
        ("C1;01-03-2026;100,00;XYZ;order", "line 3, column currency: no exchange rate for XYZ"),
        ("C1;01-03-2026;100,00;DKK;gift", "line 3, column kind: unknown kind 'gift'"),
        ("C1;01-03-2026;-5,00;DKK;order", "line 3, column amount: an order cannot be negative"),
        ("C1;01-03-2026;100,00;DKK;order;x;y", "line 3: the row has 7 fields but the header has 5"),
    ],
)
def test_a_bad_transaction_row_writes_nothing(two_customers, bad_row, expected):
    data = "customer_external_id;date;amount;currency;kind\n" + GOOD_TX + bad_row + "\n" + GOOD_TX
    report = _import("transactions", data)
    assert not report.ok
    assert report.problem_lines()[0].startswith(expected), report.problem_lines()
    assert _count(Transaction) == 0


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (
            "C3;Firma;nobody@firma.dk;high;da",
            "line 3, column owner_email: no staff user with e-mail nobody@firma.dk",
        ),
        (
            "C3;Firma;not-an-email;high;da",
            "line 3, column owner_email: 'not-an-email' is not a valid e-mail",
        ),
        ("C3;Firma;;huge;da", "line 3, column potential: unknown potential 'huge'"),
        ("C3;Firma;;high;fi", "line 3, column language: unknown language 'fi'"),
        ("C1;Again;;high;da", "line 3, column external_id: C1 already appears on line 2"),
        (";Firma;;high;da", "line 3, column external_id: external_id is empty"),
    ],
)
def test_a_bad_customer_row_writes_nothing(bad_row, expected):
    data = (
        "external_id;name;owner_email;potential;language\nC1;Først A/S;;high;da\n" + bad_row + "\n"
    )
    report = _import("customers", data)
    assert report.problem_lines()[0].startswith(expected), report.problem_lines()
    assert _count(Customer) == 0


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ("C9;Ann;ann@firma.dk;da", "line 3, column customer_external_id: unknown customer 'C9'"),
        (
            "C1;Ann;ann@@firma;da",
            "line 3, column email: 'ann@@firma' is not a valid e-mail address",
        ),
        ("C1;Ann;;da", "line 3, column email: e-mail address is empty"),
        ("C1;Ann;ann@firma.dk;klingon", "line 3, column language: unknown language 'klingon'"),
        (
            "C1;Bo;bo@firma.dk;da",
            "line 3, column email: bo@firma.dk for C1 already appears on line 2",
        ),
    ],
)
def test_a_bad_contact_row_writes_nothing(two_customers, bad_row, expected):
    data = "customer_external_id;name;email;language\nC1;Bo;bo@firma.dk;da\n" + bad_row + "\n"
    report = _import("contacts", data)
    assert report.problem_lines()[0].startswith(expected), report.problem_lines()
    assert _count(Contact) == 0


def test_every_problem_is_listed_up_to_100_then_counted(two_customers):
    rows = "".join(f"C1;31-02-2026;{n},00;DKK;order\n" for n in range(150))
    report = _import("transactions", "customer_external_id;date;amount;currency;kind\n" + rows)
    lines = report.problem_lines()
    assert len(lines) == 101
    assert lines[0].startswith("line 2, column date:")
    assert lines[99].startswith("line 101, column date:")
    assert lines[100] == "... and 50 more problems"
    assert report.summary() == "transactions: 150 problems in 150 rows; nothing was saved."


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"just one column\nx\n", "could not find the delimiter"),
        (b"\x81\x8d\x8f\x90\x9d;x\n", "neither UTF-8 nor Windows-1252"),
        (
            b"customer_external_id;date;amount\nC1;01-03-2026;1\n",
            "line 1, column currency: required column is missing",
        ),
        (
            b"customer_external_id;date;date;amount;currency\n",
            "line 1, column date: the column appears twice",
        ),
    ],
)
def test_unreadable_files_name_the_reason(two_customers, data, expected):
    report = _import("transactions", data)
    assert expected in report.problem_lines()[0], report.problem_lines()
    assert _count(Transaction) == 0


def test_header_only_file_is_fine_and_unknown_columns_are_named():
    report = _import("customers", "external_id;name;colour\n")
    assert report.ok and report.rows == 0
    assert report.ignored_columns == ["colour"]


# large files: merged in chunks while later rows are checked -----------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    from feedback.customers.imports import merge, reading

    monkeypatch.setattr(merge, "CHUNK_ROWS", 3)
    monkeypatch.setattr(merge, "LARGE_IMPORT_ROWS", 3)
    monkeypatch.setattr(reading, "BLOCK_CHARS", 60)  # plain files: two lines a block


def _foreign_keys() -> int:
    if db.engine.dialect.name != "postgresql":
        return 1
    return db.session.scalar(
        text(
            "SELECT count(*) FROM pg_constraint "
            "WHERE conrelid = 'transactions'::regclass AND contype = 'f'"
        )
    )


def test_chunked_merge_is_still_all_or_nothing_and_idempotent(two_customers, small_chunks):
    header = "customer_external_id;date;amount;currency;kind;transaction_id\n"
    rows = [f"C{1 + n % 2};0{1 + n % 9}-03-2026;{n},00;DKK;order;{'T' + str(n) if n % 3 else ''}\n"
            for n in range(1, 11)]  # fmt: skip
    rows.append("C1;01-03-2026;1,00;DKK;order;\n" * 2)  # two identical orders, one chunk apart
    data = header + "".join(rows)
    report = _import("transactions", data)
    assert report.ok and (report.rows, report.created) == (12, 12), report.problem_lines()
    assert _count(Transaction) == 12 and _foreign_keys() == 1
    again = _import("transactions", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 12)
    corrected = _import("transactions", data.replace(";7,00;", ";70,00;"))
    assert (corrected.created, corrected.updated) == (0, 1)
    dry = _import("transactions", data + "C2;02-04-2026;5,00;DKK;order;NEW\n", dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged) == (1, 1, 11)  # T7 back to 7,00
    bad = _import("transactions", data + "C2;02-04-2026;5,00;DKK;order;NEW\n" + "C9;x;y;z;w;\n")
    assert not bad.ok and bad.problem_lines()[0].startswith("line 15, column customer_external_id")
    assert _count(Transaction) == 12 and _foreign_keys() == 1


def test_plain_blocks_abandon_what_they_staged_when_a_later_block_is_bad(
    two_customers, small_chunks, row_checks
):
    header = "customer_external_id;date;amount;currency;kind;transaction_id\n"
    rows = [f"C1;01-03-2026;{n},00;DKK;order;T{n}\n" for n in range(1, 9)]
    report = _import("transactions", header + "".join(rows) + "C2;01-03-2026;1,00;DKK;order;T2\n")
    assert report.ok and report.created == 9 and row_checks == []
    for bad, expected in [
        ("C1;02-03-2026;5,00;DKK;order;T3\n", "line 11, column transaction_id: T3 for C1 is "
         "already on line 4"),
        ("C1;02-03-2026;5,00;DKK;order;T9\nC1;02-03-2026;-5,00;DKK;order;\n", "line 12, "
         "column amount: an order cannot be negative (-5.00); use kind credit"),
    ]:  # fmt: skip
        report = _import(
            "transactions", header + "".join(rows) + "C2;01-03-2026;1,00;DKK;;\n" + bad
        )
        assert report.problem_lines() == [expected]
    assert len(row_checks) == 2 and _count(Transaction) == 9
