"""Read-side queries for the customer pages: plain data, a fixed number of queries per page.

The list is a customer joined to its segment in the latest run (outer: customers created
after the run have no class yet) and to its owner. A page costs two statements: the summary
per class, which is also the count, and the page of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.orm import aliased

from feedback.auth.models import User
from feedback.customers.models import (
    ABC_CLASSES,
    Contact,
    CurrencyRate,
    Customer,
    CustomerSegment,
    SegmentRun,
    Transaction,
)
from feedback.extensions import db
from feedback.list_filters import NO_OWNER, segment_conditions  # noqa: F401  (pages read NO_OWNER here)

SORTS = ("revenue", "name", "class")
# The direction a column sorts in when first clicked: biggest revenue, A and a-z first.
DEFAULT_DIRECTION = {"revenue": "desc", "name": "asc", "class": "asc"}
CENT = Decimal("0.01")


@dataclass
class ListFilters:
    """What the customers list is narrowed to and ordered by (already validated)."""

    q: str = ""
    classes: list[str] = field(default_factory=list)
    programme: str | None = None
    owner: int | str | None = None  # a user id, NO_OWNER, or None for anyone
    language: str | None = None
    sort: str = "revenue"
    direction: str = "desc"


@dataclass
class Page:
    """One page of rows with what the pagination() macro needs."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * self.per_page, self.total)

    def iter_pages(
        self, *, left_edge=2, left_current=2, right_current=4, right_edge=2
    ) -> Iterator[int | None]:
        """Page numbers with None for a gap, as Flask-SQLAlchemy's Pagination yields them."""
        end = self.pages + 1
        left_end = min(1 + left_edge, end)
        yield from range(1, left_end)
        if left_end == end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, end)
        if mid_start > left_end:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == end:
            return
        right_start = max(mid_end, end - right_edge)
        if right_start > mid_end:
            yield None
        yield from range(right_start, end)


@dataclass
class Summary:
    """Customers and revenue per class for the current filter; `unclassified` had no run."""

    per_class: dict[str, tuple[int, Decimal]]
    unclassified: int = 0

    @property
    def count(self) -> int:
        return sum(n for n, _ in self.per_class.values()) + self.unclassified

    @property
    def revenue(self) -> Decimal:
        return sum((r for _, r in self.per_class.values()), Decimal(0))


def _decimal(value) -> Decimal:
    """SQLite hands sums back as floats; PostgreSQL as Decimal. Always cents."""
    return Decimal(str(value or 0)).quantize(CENT)


def _segment_join(run_id: int | None):
    if run_id is None:
        return false()
    return and_(CustomerSegment.customer_id == Customer.id, CustomerSegment.run_id == run_id)


def _conditions(filters: ListFilters) -> list:
    conditions = []
    if filters.q:
        conditions.append(
            Customer.name.icontains(filters.q, autoescape=True)
            | Customer.external_id.icontains(filters.q, autoescape=True)
        )
    conditions += segment_conditions(filters)
    if filters.language:
        conditions.append(Customer.language == filters.language)
    return conditions


def _order_by(filters: ListFilters) -> list:
    revenue, klass = CustomerSegment.revenue_12m, CustomerSegment.abc_class
    descending = filters.direction == "desc"
    unclassified_last = case((klass.is_(None), 1), else_=0)
    name = func.lower(Customer.name)
    if filters.sort == "name":
        keys = [name.desc() if descending else name.asc()]
    elif filters.sort == "class":
        keys = [unclassified_last, klass.desc() if descending else klass.asc(), revenue.desc()]
    else:
        keys = [unclassified_last, revenue.desc() if descending else revenue.asc(), name]
    return [*keys, Customer.id]


def summarise(filters: ListFilters, run_id: int | None) -> Summary:
    """Count and revenue per class of the filtered customers (one grouped statement)."""
    rows = db.session.execute(
        select(CustomerSegment.abc_class, func.count(), func.sum(CustomerSegment.revenue_12m))
        .select_from(Customer)
        .outerjoin(CustomerSegment, _segment_join(run_id))
        .where(*_conditions(filters))
        .group_by(CustomerSegment.abc_class)
    ).all()
    summary = Summary(per_class={klass: (0, Decimal(0)) for klass in ABC_CLASSES})
    for klass, count, revenue in rows:
        if klass is None:
            summary.unclassified = count
        else:
            summary.per_class[klass] = (count, _decimal(revenue))
    return summary


def customer_page(
    filters: ListFilters, run_id: int | None, *, page: int, per_page: int, total: int
) -> Page:
    """One page of customers with class, programme, revenue, owner and contact count."""
    page = min(max(page, 1), max(1, -(-total // per_page)))
    contacts = (
        select(func.count())
        .where(Contact.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    owner = aliased(User)
    rows = db.session.execute(
        select(
            Customer.external_id,
            Customer.name,
            Customer.language,
            func.coalesce(func.nullif(owner.name, ""), owner.email).label("owner_name"),
            CustomerSegment.abc_class,
            CustomerSegment.programme,
            CustomerSegment.revenue_12m,
            CustomerSegment.rank,
            contacts.label("contacts"),
        )
        .select_from(Customer)
        .outerjoin(CustomerSegment, _segment_join(run_id))
        .outerjoin(owner, owner.id == Customer.owner_id)
        .where(*_conditions(filters))
        .order_by(*_order_by(filters))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(items=rows, page=page, per_page=per_page, total=total)


def owner_choices() -> list[tuple[int, str]]:
    """Staff who own at least one customer, for the owner filter."""
    users = db.session.scalars(
        select(User)
        .where(select(Customer.id).where(Customer.owner_id == User.id).exists())
        .order_by(func.lower(func.coalesce(func.nullif(User.name, ""), User.email)))
    )
    return [(user.id, user.display_name) for user in users]


# --- one customer ------------------------------------------------------------------------


def month_starts(end: date, months: int) -> list[date]:
    """The first days of the `months` calendar months ending with `end`'s month, oldest first."""
    index = end.year * 12 + end.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def monthly_revenue(
    customer_id: int, *, base_currency: str, end: date, months: int = 24
) -> list[tuple[date, Decimal]]:
    """Net revenue (orders minus credits) per calendar month in the base currency.

    Converted with the stored rates like the segment run does; a currency without a rate
    counts as nothing. Every month is present, with 0 when nothing was invoiced.
    """
    starts = month_starts(end, months)
    year = func.extract("year", Transaction.date)
    month = func.extract("month", Transaction.date)
    rate = case((Transaction.currency == base_currency, 1), else_=CurrencyRate.rate)
    rows = db.session.execute(
        select(year, month, func.sum(Transaction.amount * rate))
        .outerjoin(CurrencyRate, CurrencyRate.currency == Transaction.currency)
        .where(
            Transaction.customer_id == customer_id,
            Transaction.date >= starts[0],
            Transaction.date <= end,
        )
        .group_by(year, month)
    ).all()
    totals = {(int(y), int(m)): _decimal(amount) for y, m, amount in rows}
    return [(start, totals.get((start.year, start.month), Decimal(0))) for start in starts]


@dataclass
class HistoryEntry:
    as_of: date
    abc_class: str
    programme: str
    revenue: Decimal
    rank: int
    customer_count: int
    currency: str
    previous_class: str | None = None  # the class in the run before, when it differs

    @property
    def moved(self) -> bool:
        return self.previous_class is not None


def class_history(customer_id: int) -> list[HistoryEntry]:
    """The customer's class in every segment run, newest first, with moves marked."""
    rows = db.session.execute(
        select(CustomerSegment, SegmentRun)
        .join(SegmentRun, SegmentRun.id == CustomerSegment.run_id)
        .where(CustomerSegment.customer_id == customer_id)
        .order_by(SegmentRun.as_of)
    ).all()
    history: list[HistoryEntry] = []
    for segment, run in rows:
        before = history[-1].abc_class if history else None
        history.append(
            HistoryEntry(
                as_of=run.as_of,
                abc_class=segment.abc_class,
                programme=segment.programme,
                revenue=segment.revenue_12m,
                rank=segment.rank,
                customer_count=run.customer_count,
                currency=run.base_currency,
                previous_class=before if before not in (None, segment.abc_class) else None,
            )
        )
    return history[::-1]
