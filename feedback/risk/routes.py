"""The At-risk page: customers ranked by revenue at risk, with the reasons in words."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from feedback.auth.decorators import require_role
from feedback.customers.models import ABC_CLASSES, PROGRAMMES
from feedback.customers.queries import owner_choices
from feedback.list_filters import parse_segment_filters, shown, whole_number
from feedback.risk import queries, risk_level

bp = Blueprint("risk", __name__)
bp.add_app_template_global(risk_level)  # the badges on every page that shows a risk
PER_PAGE = 50


@bp.before_request
def staff_only():
    return require_role("agent")


def parse_filters(args) -> tuple[queries.AtRiskFilters, int, list[str]]:
    """Filters from the query string; what cannot be used is dropped and named."""
    filters, ignored = queries.AtRiskFilters(), []
    parse_segment_filters(args, filters, ignored)
    reason = (args.get("reason") or "").strip().lower()
    if reason in queries.REASON_LABELS:
        filters.reason = reason
    elif reason:
        ignored.append(f"reason {shown(reason)}")
    return filters, whole_number((args.get("page") or "1").strip()) or 1, ignored


@bp.get("/at-risk")
def at_risk():
    filters, page_number, ignored = parse_filters(request.args)
    run = queries.run_as_of()
    args = {"class": filters.classes, "programme": filters.programme, "owner": filters.owner,
            "reason": filters.reason}  # fmt: skip
    args = {k: v for k, v in args.items() if v not in (None, "", [])}
    summary = page = None
    if run is not None:
        summary = queries.at_risk_summary(run, filters, current_user)
        page = queries.at_risk_page(run, filters, current_user, page=page_number,
                                    per_page=PER_PAGE, total=summary.count)  # fmt: skip
    return render_template(
        "risk/at_risk.html",
        run=run, filters=filters, args=args, summary=summary, page=page, ignored=ignored,
        owners=owner_choices(), classes=ABC_CLASSES, programmes=PROGRAMMES,
        reasons=queries.REASON_LABELS, no_owner=queries.NO_OWNER,
        sees_all=current_user.has_role("admin", "manager"),
        clear_url=url_for("risk.at_risk"),
    )  # fmt: skip
