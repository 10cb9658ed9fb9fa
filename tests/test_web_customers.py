"""Customer list and customer pages: access, filters, sorting, paging, odd input, the chart."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from feedback.customers import charts, queries
from feedback.customers.models import Contact
from feedback.customers.segments import recompute_segments
from feedback.extensions import db

TODAY = date.today()
SEGMENTS = dict(
    base_currency="EUR",
    thresholds=(Decimal("0.50"), Decimal("0.30"), Decimal("0.15")),
    grow_potentials=("high", "medium"),
)


def _recompute(as_of=TODAY):
    run = recompute_segments(as_of, **SEGMENTS)
    db.session.commit()
    return run


@pytest.fixture
def book(create_customer, create_user, add_transaction):
    """Five customers, 400/300/150/100/50 of 1,000 EUR: classes A, A, B, C, D."""
    owner = create_user(email="olga@example.com", name="Olga Owner")
    specs = [
        ("N-100", "Nordlys Stål A/S", 400, "high", "da", owner),
        ("N-200", "Bergen Bolt AS", 300, "low", "nb", owner),
        ("N-300", "Malmö Maskin AB", 150, "medium", "sv", None),
        ("N-400", "Tampere Tools Oy", 100, "low", "en", None),
        ("N-500", "Odense 100%_Rør", 50, "low", "da", None),
    ]
    customers = {}
    for ext, name, amount, potential, language, who in specs:
        customer = create_customer(
            external_id=ext, name=name, owner=who, potential=potential, language=language
        )
        add_transaction(customer, amount, TODAY - timedelta(days=3))
        customers[ext] = customer
    db.session.add_all(
        [
            Contact(customer_id=customers["N-100"].id, name="Kari Dahl", email="kari@nordlys.dk"),
            Contact(
                customer_id=customers["N-100"].id,
                name="Ole Berg",
                email="ole@nordlys.dk",
                language="da",
                status="opted_out",
            ),
        ]
    )
    db.session.commit()
    _recompute()
    return customers


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _numbers(page: str) -> list[str]:
    """Customer numbers in the table, top to bottom."""
    return re.findall(r'<td class="nowrap customer-number">([^<]+)</td>', page)


# --- access --------------------------------------------------------------------------------


def test_strangers_are_sent_to_login(client, book):
    for path in ("/customers", "/customers/N-100"):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_agent_sees_the_list_with_classes_owner_and_contacts(client, login_as, book):
    login_as("agent")
    page = _page(client, "/customers")
    assert _numbers(page) == ["N-100", "N-200", "N-300", "N-400", "N-500"]
    row = page[page.index("Nordlys Stål A/S") :].split("</tr>")[0]
    assert 'class="badge class-A"' in row and 'class="badge grow"' in row
    assert '<td class="num">400</td>' in row and "Olga Owner" in row and "Danish" in row
    assert row.rstrip().endswith('<td class="num">2</td>')
    assert 'aria-current="page">Customers</a>' in page  # nav


def test_summary_strip_counts_and_sums_per_class_for_the_filter(client, login_as, book):
    login_as("agent")
    page = _page(client, "/customers")
    strip = page[page.index("segment-summary") : page.index("</ul>", page.index("segment-summary"))]
    assert "1,000 EUR" in strip  # all five
    assert strip.count('<span class="count">') == 5
    page = _page(client, "/customers?owner=none")
    strip = page[page.index("segment-summary") : page.index("</ul>", page.index("segment-summary"))]
    assert '<span class="count">3</span>' in strip and "300 EUR" in strip


# --- filters and sorting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("class=A", ["N-100", "N-200"]),
        ("class=B&class=C", ["N-300", "N-400"]),
        ("class=a&class=A", ["N-100", "N-200"]),
        ("programme=grow", ["N-100", "N-300"]),
        ("programme=retain&class=A", ["N-200"]),
        ("language=da", ["N-100", "N-500"]),
        ("q=malmö", ["N-300"]),
        ("q=MALM", ["N-300"]),
        ("q=n-2", ["N-200"]),
        ("q=100%25", ["N-500"]),  # a literal %, not a wildcard
        ("q=%25", ["N-500"]),
        ("q=_", ["N-500"]),
        ("q=nobody", []),
        ("owner=none", ["N-300", "N-400", "N-500"]),
    ],
)
def test_filters(client, login_as, book, query, expected):
    login_as("agent")
    assert _numbers(_page(client, f"/customers?{query}")) == expected


def test_owner_filter_by_id_and_owner_choices(client, login_as, book):
    login_as("agent")
    owner = book["N-100"].owner
    page = _page(client, f"/customers?owner={owner.id}")
    assert _numbers(page) == ["N-100", "N-200"]
    assert f'<option value="{owner.id}" selected>Olga Owner</option>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["N-100", "N-200", "N-300", "N-400", "N-500"]),
        ("sort=revenue&dir=asc", ["N-500", "N-400", "N-300", "N-200", "N-100"]),
        ("sort=name", ["N-200", "N-300", "N-100", "N-500", "N-400"]),
        ("sort=name&dir=desc", ["N-400", "N-500", "N-100", "N-300", "N-200"]),
        ("sort=class&dir=desc", ["N-500", "N-400", "N-300", "N-100", "N-200"]),
    ],
)
def test_sorting(client, login_as, book, query, expected):
    login_as("agent")
    assert _numbers(_page(client, f"/customers?{query}")) == expected


def test_sort_links_keep_the_filters_and_flip_direction(client, login_as, book):
    login_as("agent")
    page = _page(client, "/customers?class=A&sort=name")
    assert 'href="/customers?class=A&amp;sort=name&amp;dir=desc"' in page
    assert 'aria-sort="ascending"' in page
    assert '<input type="hidden" name="sort" value="name">' in page


# --- paging and odd input ------------------------------------------------------------------


@pytest.fixture
def many(create_customer, add_transaction):
    """120 customers, revenue 1..120 so the order is known."""
    for n in range(1, 121):
        customer = create_customer(external_id=f"P{n:03d}", name=f"Paged {n:03d}")
        add_transaction(customer, n)
    _recompute()


def test_pagination(client, login_as, many):
    login_as("agent")
    first = _page(client, "/customers")
    assert len(_numbers(first)) == 50 and _numbers(first)[0] == "P120"
    assert "Showing 1–50 of 120 customers" in first and "Page 1 of 3 · 120 in all" in first
    third = _page(client, "/customers?page=3")
    assert _numbers(third) == [f"P{n:03d}" for n in range(20, 0, -1)]
    assert "Showing 101–120 of 120" in third
    filtered = _page(client, "/customers?q=paged&sort=name&page=2")
    assert _numbers(filtered)[0] == "P051"
    assert 'href="/customers?page=3&amp;q=paged&amp;sort=name" rel="next"' in filtered


@pytest.mark.parametrize(
    "query",
    [
        "class=Z",
        "class=%3Cscript%3E",
        "page=-1",
        "page=0",
        "page=abc",
        "page=99999",
        "page=99999999999999999999999",
        "page=%C2%B2",
        "owner=%C2%B2",
        "class=" + "Q" * 3000,
        "sort=evil",
        "sort=name;DROP TABLE customers",
        "dir=sideways",
        "owner=abc",
        "owner=-3",
        "owner=99999999999999999999",
        "language=xx",
        "programme=both",
    ],
)
def test_bad_parameters_never_fail_the_page(client, login_as, many, query):
    login_as("agent")
    page = _page(client, f"/customers?{query}")
    assert _numbers(page), query  # the list is still shown (clamped or unfiltered)


@pytest.mark.parametrize("query", ["q=" + "x" * 5000, "q=%5C", "q=%27%3B--", "q=%00%01zz"], ids=str)
def test_odd_searches_find_nothing_without_failing(client, login_as, many, query):
    login_as("agent")
    assert "No customers match" in _page(client, f"/customers?{query}")


def test_bad_parameters_are_named_and_escaped(client, login_as, many):
    login_as("agent")
    page = _page(client, "/customers?class=%3Cscript%3E&sort=evil")
    assert "Ignored" in page and "&lt;SCRIPT&gt;" in page and "<SCRIPT>" not in page
    assert _numbers(page)[0] == "P120"  # default sort
    assert "Page 3 of 3" in _page(client, "/customers?page=99999")


def test_list_uses_a_fixed_number_of_statements(client, login_as, many):
    login_as("agent")
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        _page(client, "/customers")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # latest run, summary (also the count), the page, owner choices: nothing per row
    assert len(statements) == 4, statements


def test_before_any_run_customers_are_listed_with_a_note(client, login_as, create_customer):
    login_as("agent")
    create_customer(external_id="X-1", name="Early Bird")
    page = _page(client, "/customers?class=A&sort=revenue")
    assert "classes not computed yet" in page.lower()
    assert "feedback segments recompute" in page
    assert _numbers(page) == ["X-1"]


def test_customers_added_after_the_run_are_shown_unclassified(
    client, login_as, book, create_customer
):
    login_as("agent")
    create_customer(external_id="N-900", name="Newcomer")
    page = _page(client, "/customers")
    assert _numbers(page)[-1] == "N-900" and "Not classified yet" in page
    assert "N-900" not in _numbers(_page(client, "/customers?class=D"))


def test_names_are_escaped(client, login_as, create_customer, add_transaction):
    login_as("agent")
    customer = create_customer(external_id="XSS", name="<script>alert(1)</script>")
    add_transaction(customer, 10)
    _recompute()
    for path in ("/customers", "/customers/XSS"):
        page = _page(client, path)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- one customer --------------------------------------------------------------------------


def test_detail_shows_facts_contacts_chart_and_history(
    client, login_as, book, add_transaction, create_customer
):
    login_as("agent")
    nordlys = book["N-100"]
    add_transaction(nordlys, 80, TODAY.replace(day=1) - timedelta(days=40))
    add_transaction(nordlys, 200, TODAY.replace(day=1) - timedelta(days=40), kind="credit")
    page = _page(client, "/customers/N-100")
    assert "<h1>Nordlys Stål A/S</h1>" in page and "Olga Owner" in page
    assert "kari@nordlys.dk" in page and 'class="badge off">Opted out' in page
    assert '1 <span class="muted">of 5</span>' in page  # rank
    start = page.index('<svg class="chart"')
    svg = page[start : page.index("</svg>", start)]
    assert 'role="img"' in svg and "Revenue by month for Nordlys Stål A/S" in svg
    assert svg.count('<g class="bar') == 24
    assert 'class="bar neg"' in svg and "−120 EUR" in svg  # credits over orders
    assert "Red bars below the line" in page
    assert "Class history" in page and "—" in page


def test_history_shows_class_moves(client, login_as, book, add_transaction):
    login_as("agent")
    older = TODAY - timedelta(days=400)
    add_transaction(book["N-300"], 5000, older - timedelta(days=10))
    _recompute(older)  # N-300 is the only one with revenue then: A
    page = _page(client, "/customers/N-300")
    history = page[page.index("Class history") :]
    assert "A → B" in history
    assert history.index(TODAY.isoformat()) < history.index(older.isoformat())


def test_detail_without_transactions_or_run(client, login_as, create_customer):
    login_as("agent")
    create_customer(external_id="Q/1 x", name="Quiet Ltd")
    page = _page(client, "/customers/Q%2F1%20x")
    assert "No orders or credits in the last 24 months" in page
    assert '<svg class="chart"' not in page
    assert "Not computed yet" in page


def test_unknown_customer_is_a_404(client, login_as):
    login_as("agent")
    response = client.get("/customers/NOPE-1")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in page and "no customer with number “NOPE-1”" in page
    escaped = client.get("/customers/%3Cb%3Ex")
    assert escaped.status_code == 404 and "“&lt;b&gt;x”" in escaped.get_data(as_text=True)


# --- queries and chart directly ------------------------------------------------------------


def test_monthly_revenue_converts_currencies_and_fills_empty_months(
    create_customer, add_transaction
):
    from feedback.customers.services import set_currency_rate

    set_currency_rate("SEK", "0.1", base_currency="EUR")
    customer = create_customer()
    add_transaction(customer, 100, date(2026, 3, 5))
    add_transaction(customer, 1000, date(2026, 3, 20), currency="SEK")
    add_transaction(customer, 50, date(2026, 1, 31), kind="credit")
    add_transaction(customer, 999, date(2024, 12, 31))  # before the window
    months = queries.monthly_revenue(customer.id, base_currency="EUR", end=date(2026, 4, 15))
    assert len(months) == 24 and months[0][0] == date(2024, 5, 1)
    by_month = dict(months)
    assert by_month[date(2026, 3, 1)] == Decimal("200.00")
    assert by_month[date(2026, 1, 1)] == Decimal("-50.00")
    assert by_month[date(2026, 2, 1)] == 0 and by_month[date(2026, 4, 1)] == 0


def test_month_starts_cross_the_year():
    assert queries.month_starts(date(2026, 2, 28), 3) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_chart_handles_negative_and_all_zero_months():
    months = [(date(2026, m, 1), Decimal(v)) for m, v in [(1, 1500), (2, -400), (3, 0)]]
    svg = str(charts.monthly_bars(months, currency="EUR", title="T <&>"))
    assert "T &lt;&amp;&gt;" in svg and 'class="bar neg"' in svg
    assert ">−500<" in svg or ">−400<" in svg  # the axis reaches below zero
    zeros = [(date(2026, m, 1), Decimal(0)) for m in (1, 2)]
    assert "<svg" in str(charts.monthly_bars(zeros, currency="EUR", title="t"))


def test_axis_labels_are_compact():
    assert charts.compact(1500) == "1.5k"
    assert charts.compact(2_000_000) == "2M"
    assert charts.compact(-250) == "−250"
    assert charts.nice_step(1000) == 250
