"""The class, programme and owner filters that the customer lists share (Customers, At risk,
Follow-ups): read from a query string, never an error. A stale or hand-edited link drops
what it cannot use and names it, so the page can say what it ignored."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from feedback.customers.models import ABC_CLASSES, PROGRAMMES, Customer, CustomerSegment

NO_OWNER = "none"  # the owner filter's value for customers without an owner


def shown(value: str) -> str:
    """A bad value as the page names it: quoted and cut short."""
    return f"“{value[:40]}{'…' if len(value) > 40 else ''}”"


def whole_number(text: str) -> int | None:
    """A positive whole number that fits a database integer, or None ('²', '-1', '1e3')."""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


def parse_segment_filters(args: MultiDict, filters, ignored: list[str]) -> None:
    """Set `filters.classes`, `.programme` and `.owner` (a user id or NO_OWNER) from `args`,
    appending what cannot be used to `ignored`."""
    for value in args.getlist("class"):
        value = value.strip().upper()
        if value in ABC_CLASSES:
            if value not in filters.classes:
                filters.classes.append(value)
        elif value:
            ignored.append(f"class {shown(value)}")
    programme = (args.get("programme") or "").strip().lower()
    if programme in PROGRAMMES:
        filters.programme = programme
    elif programme:
        ignored.append(f"programme {shown(programme)}")
    owner = (args.get("owner") or "").strip().lower()
    if owner == NO_OWNER:
        filters.owner = NO_OWNER
    elif whole_number(owner) is not None:
        filters.owner = whole_number(owner)
    elif owner:
        ignored.append(f"owner {shown(owner)}")


def segment_conditions(filters, abc_class=None, programme=None, owner_id=None) -> list:
    """The SQL conditions for `filters.classes`, `.programme` and `.owner`, on the given
    columns; by default those of a query that joins Customer and the customer's
    CustomerSegment (the dashboard passes the columns of its fact tables)."""
    abc_class = CustomerSegment.abc_class if abc_class is None else abc_class
    programme = CustomerSegment.programme if programme is None else programme
    owner_id = Customer.owner_id if owner_id is None else owner_id
    conditions = []
    if filters.classes:
        conditions.append(abc_class.in_(filters.classes))
    if filters.programme:
        conditions.append(programme == filters.programme)
    if filters.owner == NO_OWNER:
        conditions.append(owner_id.is_(None))
    elif filters.owner is not None:
        conditions.append(owner_id == filters.owner)
    return conditions
