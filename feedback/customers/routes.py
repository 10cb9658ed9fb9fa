"""Customer pages for every signed-in staff member: the segmented list and one customer."""

from __future__ import annotations

from datetime import date

from flask import current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from feedback.auth.decorators import require_role
from feedback.customers import bp, charts, queries
from feedback.customers.models import ABC_CLASSES, LANGUAGES, PROGRAMMES
from feedback.customers.segments import latest_run
from feedback.customers.services import current_segment, get_customer
from feedback.errors import NotFound
from feedback.list_filters import parse_segment_filters, shown, whole_number

PER_PAGE = 50
MAX_QUERY = 200
LANGUAGE_NAMES = {"en": "English", "da": "Danish", "sv": "Swedish", "nb": "Norwegian"}


@bp.before_request
def staff_only():
    return require_role("agent")


def parse_filters(args: MultiDict) -> tuple[queries.ListFilters, int, list[str]]:
    """Filters and page number from the query string; what cannot be used is dropped and named.

    A hand-edited or stale link must never fail the page, so nothing here raises.
    """
    ignored: list[str] = []
    # Control characters (NUL above all) are never in a name, and PostgreSQL refuses NUL.
    text = "".join(ch for ch in args.get("q") or "" if ch.isprintable())
    filters = queries.ListFilters(q=text.strip()[:MAX_QUERY])
    parse_segment_filters(args, filters, ignored)

    def choice(name: str, allowed) -> str | None:
        value = (args.get(name) or "").strip().lower()
        if value and value not in allowed:
            ignored.append(f"{name} {shown(value)}")
            return None
        return value or None

    filters.language = choice("language", LANGUAGES)
    filters.sort = choice("sort", queries.SORTS) or "revenue"
    filters.direction = choice("dir", ("asc", "desc")) or queries.DEFAULT_DIRECTION[filters.sort]
    return filters, whole_number((args.get("page") or "1").strip()) or 1, ignored


def _args(filters: queries.ListFilters) -> dict:
    """The query-string arguments that reproduce `filters` (defaults left out)."""
    args = {
        "q": filters.q,
        "class": filters.classes,
        "programme": filters.programme,
        "owner": filters.owner,
        "language": filters.language,
        "sort": filters.sort,
        "dir": filters.direction,
    }
    if filters.sort == "revenue":
        args["sort"] = None
    if filters.direction == queries.DEFAULT_DIRECTION[filters.sort]:
        args["dir"] = None
    return {key: value for key, value in args.items() if value not in (None, "", [])}


@bp.get("/customers")
def list_customers():
    filters, page_number, ignored = parse_filters(request.args)
    run = latest_run()
    if run is None:  # no classes yet: nothing to filter or sort on but the name
        filters.classes, filters.programme = [], None
        if filters.sort != "name":
            filters.sort, filters.direction = "name", "asc"
    run_id = run.id if run else None
    summary = queries.summarise(filters, run_id)
    page = queries.customer_page(
        filters, run_id, page=page_number, per_page=PER_PAGE, total=summary.count
    )
    args = _args(filters)

    def list_url(**changes) -> str:
        """This list with some arguments changed (None removes one); back to page 1."""
        merged = {**args, **changes}
        return url_for(
            "customers.list_customers", **{k: v for k, v in merged.items() if v is not None}
        )

    def sort_url(key: str) -> str:
        direction = queries.DEFAULT_DIRECTION[key]
        if filters.sort == key:
            direction = "asc" if filters.direction == "desc" else "desc"
        return list_url(
            sort=None if key == "revenue" else key,
            dir=None if direction == queries.DEFAULT_DIRECTION[key] else direction,
        )

    return render_template(
        "customers/list.html",
        run=run,
        filters=filters,
        args=args,
        page=page,
        summary=summary,
        ignored=ignored,
        owners=queries.owner_choices(),
        classes=ABC_CLASSES,
        programmes=PROGRAMMES,
        languages=LANGUAGE_NAMES,
        no_owner=queries.NO_OWNER,
        list_url=list_url,
        sort_url=sort_url,
    )


@bp.get("/customers/<path:external_id>")  # ERP numbers may hold a slash
def customer_detail(external_id: str):
    from feedback.followups.routes import followup_panel  # followups imports customers
    from feedback.risk.queries import risk_context  # so does risk

    try:
        customer = get_customer(external_id)
    except NotFound:
        raise NotFound(
            f"There is no customer with number “{external_id}”. Check the link, or search "
            "for the customer in the list."
        ) from None
    segment = current_segment(customer.id)
    currency = (
        segment.run.base_currency if segment else current_app.config["FEEDBACK_BASE_CURRENCY"]
    )
    today = date.today()
    months = queries.monthly_revenue(customer.id, base_currency=currency, end=today)
    chart = None
    if any(amount for _, amount in months):
        chart = charts.monthly_bars(
            months,
            currency=currency,
            title=f"Revenue by month for {customer.name}, in {currency}",
            partial_last=True,
            chart_id="revenue-chart",
        )
    return render_template(
        "customers/detail.html",
        customer=customer,
        segment=segment,
        currency=currency,
        months=months,
        chart=chart,
        has_credit_months=any(amount < 0 for _, amount in months),
        history=queries.class_history(customer.id),
        languages=LANGUAGE_NAMES,
        followup=followup_panel(customer),
        **risk_context(customer.id),
    )
