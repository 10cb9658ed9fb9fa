"""What the views over the monthly customer facts (attitude vs behaviour, revenue at risk)
share: how they write amounts and months, and what they say when no customer is shown."""

from __future__ import annotations

from datetime import date

from dashboards.queries.behaviour import facts_through


def money(value: float | None, currency: str = "") -> str:
    """An amount for people: 26.4 M, 312 k, 9,870 (with a true minus)."""
    if value is None:
        return "—"
    size = abs(value)
    if size >= 1e6:
        text = f"{value / 1e6:,.1f} M"
    elif size >= 1e4:
        text = f"{value / 1e3:,.0f} k"
    else:
        text = f"{value:,.0f}"
    return f"{text} {currency}".strip().replace("-", "−")


def month_name(month) -> str:
    return f"{month:%B %Y}"


def no_customers_text(conn, month: date) -> str:
    """Why no customer is shown for `month`: facts never built, not built that far, or the
    filters match nobody."""
    through = facts_through(conn)
    if through is None:
        return ("The monthly customer facts have not been built yet: run "
                "`feedback reporting rebuild`.")  # fmt: skip
    if month > through:
        return (f"The monthly customer facts run through {month_name(through)}, not "
                f"{month_name(month)}: run `feedback reporting refresh`, or end the "
                "period earlier.")  # fmt: skip
    return (f"No customers who bought in the 24 months up to {month_name(month)} "
            "match these filters.")  # fmt: skip
