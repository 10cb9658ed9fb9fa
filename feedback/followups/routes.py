"""Staff pages of the follow-up programme: the Follow-ups page (overdue customers by owner)
and logging a contact from the customer page, whose Follow-up section `followup_panel`
prepares. Who may see and log what is decided on the server for every request
(status.may_follow_up and visible_condition), whatever the page offered."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from feedback.auth.decorators import require_role
from feedback.customers.models import ABC_CLASSES, PROGRAMMES, Customer
from feedback.customers.queries import owner_choices
from feedback.customers.services import get_customer
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.followups import bp, queries, services
from feedback.followups.forms import ContactForm
from feedback.followups.programme import Programme, ProgrammeError, load_programme
from feedback.followups.status import FollowupStatus, local_today, may_follow_up
from feedback.list_filters import parse_segment_filters
from feedback.web import error_response

PER_GROUP = 25  # customers shown per owner before "show all"
MAX_ROWS = 500  # customers shown for one owner
NOT_ALLOWED = (
    "Only the customer's owner, the owner's team, the team responsible for its follow-up, or "
    "a manager may log contacts for this customer."
)


@bp.before_request
def staff_only():
    return require_role("agent")


def _tz() -> ZoneInfo:
    try:
        return ZoneInfo(current_app.config.get("FEEDBACK_TIMEZONE") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _programme() -> Programme:
    return load_programme(current_app.config["FEEDBACK_FOLLOWUP_FILE"])


@dataclass
class FollowupPanel:
    """What customers/_followup.html shows."""

    status: FollowupStatus | None = None
    entries: list[services.ContactEntry] = field(default_factory=list)
    total: int = 0
    may_log: bool = False
    form: ContactForm | None = None
    problems: list[str] = field(default_factory=list)  # the programme file's, if broken


def followup_panel(customer: Customer) -> FollowupPanel:
    """The customer page's Follow-up section for the signed-in person."""
    try:
        programme = _programme()
    except ProgrammeError as exc:
        return FollowupPanel(problems=exc.problems)
    tz = _tz()
    today = local_today(tz)
    status = services.followup_status([customer.id], today, programme=programme, tz=tz)
    entries, total = services.contact_history(customer.id)
    form = ContactForm(prefix="contact", today=today, formdata=None)
    form.on.data = today
    return FollowupPanel(status=status[customer.id], entries=entries, total=total, form=form,
                         may_log=may_follow_up(current_user, status[customer.id]))  # fmt: skip


def _back(customer: Customer):
    url = url_for("customers.customer_detail", external_id=customer.external_id)
    return redirect(f"{url}#followup", code=303)


@bp.post("/followups/customers/<path:external_id>/contacts")
def log_contact(external_id: str):
    try:
        customer = get_customer(external_id)
    except NotFound:
        raise NotFound(f"There is no customer with number “{external_id[:64]}”.") from None
    try:
        programme = _programme()
    except ProgrammeError as exc:
        return error_response(500, "The follow-up programme file has problems: "
                              + "; ".join(exc.problems))  # fmt: skip
    tz = _tz()
    today = local_today(tz)
    status = services.followup_status([customer.id], today, programme=programme, tz=tz)
    if not may_follow_up(current_user, status[customer.id]):
        return error_response(403, NOT_ALLOWED)
    form = ContactForm(prefix="contact", today=today)
    if not form.validate_on_submit():
        flash(f"Nothing was logged. {form.first_error()}", "error")
        return _back(customer)
    at = services.contact_moment(form.on.data, tz=tz)
    try:
        services.log_contact(customer, current_user, form.kind.data, at, form.note.data or "",
                             programme=programme, tz=tz)  # fmt: skip
    except services.NotAllowed:
        db.session.rollback()
        return error_response(403, NOT_ALLOWED)
    except DomainError as exc:
        db.session.rollback()
        flash(f"Nothing was logged: {str(exc)[:300]}", "error")
        return _back(customer)
    db.session.commit()
    label = services.KIND_LABELS[form.kind.data]
    flash(f"{label} on {form.on.data:%Y-%m-%d} logged for {customer.name}.", "success")
    return _back(customer)


def parse_filters(args: MultiDict) -> tuple[queries.OverdueFilters, list[str]]:
    """Filters from the query string; what cannot be used is dropped and named, never an
    error (links get hand-edited and go stale)."""
    filters, ignored = queries.OverdueFilters(), []
    parse_segment_filters(args, filters, ignored)
    filters.automated = (args.get("automated") or "") in ("1", "on", "true")
    return filters, ignored


@bp.get("/followups")
def overdue():
    filters, ignored = parse_filters(request.args)
    try:
        programme = _programme()
    except ProgrammeError as exc:
        return error_response(500, "The follow-up programme file has problems: "
                              + "; ".join(exc.problems))  # fmt: skip
    tz = _tz()
    today = local_today(tz)
    view = queries.overdue_view(current_user, programme, filters, today=today, tz=tz)
    args = {
        "class": filters.classes or None,
        "programme": filters.programme,
        "owner": filters.owner,
        "automated": "1" if filters.automated else None,
    }

    def page_url(**changes) -> str:
        merged = {**args, **changes}
        return url_for("followups.overdue", **{k: v for k, v in merged.items() if v is not None})

    return render_template(
        "followups/overdue.html",
        view=view,
        filters=filters,
        ignored=ignored,
        today=today,
        programme=programme,
        per_group=MAX_ROWS if filters.owner is not None else PER_GROUP,
        owners=owner_choices(),
        classes=ABC_CLASSES,
        programmes=PROGRAMMES,
        no_owner=queries.NO_OWNER,
        page_url=page_url,
    )
