"""Staff pages for cases: the queue (My cases / Team / All) and the case page with its actions.

Who sees and changes what is decided on the server for every request (services.get_case_for
and can_act), whatever the page offered. Actions post, then redirect back (303) with a
message, so a reload never repeats one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from feedback.analysis.themes import load_themes
from feedback.auth.decorators import require_role
from feedback.auth.models import Team, User
from feedback.cases import bp, detail, queries, services
from feedback.cases.customer_mail import request_followup
from feedback.cases.forms import STATUS_LABELS, AssignForm, CommentForm, StatusForm
from feedback.cases.models import CLOSED_STATUSES, PRIORITIES
from feedback.customers.models import ABC_CLASSES
from feedback.dbtypes import utcnow
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.web import error_response

PER_PAGE = 50
VIEW_LABELS = {"mine": "My cases", "team": "Team", "all": "All"}
STATUS_FILTER_LABELS = {
    "open": "Open",
    **STATUS_LABELS,
    "closed": "Closed (resolved or no action)",
    "any": "Any status",
}


@bp.before_request
def staff_only():
    return require_role("agent")


def parse_filters(args: MultiDict, actor: User) -> tuple[queries.QueueFilters, int, list[str]]:
    """Filters from the query string; a value that cannot be used is dropped and named, never
    an error (links get hand-edited and go stale)."""
    ignored: list[str] = []

    def choice(name: str, allowed, default=None):
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            ignored.append(f"{name} “{value[:40]}”")
            return default
        return value or default

    tabs = queries.views_for(actor)
    filters = queries.QueueFilters(
        view=choice("view", tabs, queries.default_view(actor)),
        status=choice("status", queries.STATUS_FILTERS, "open"),
        priority=choice("priority", PRIORITIES),
        theme=choice("theme", load_themes()),
        breached=(args.get("breached") or "") in ("1", "on", "true"),
    )
    for value in args.getlist("class"):
        value = value.strip().upper()
        if value in ABC_CLASSES and value not in filters.classes:
            filters.classes.append(value)
        elif value and value not in ABC_CLASSES:
            ignored.append(f"class “{value[:40]}”")
    page = (args.get("page") or "1").strip()
    whole = page.isascii() and page.isdigit() and len(page) < 7
    return filters, max(int(page) if whole else 1, 1), ignored


def _args(filters: queries.QueueFilters) -> dict:
    args = {
        "view": filters.view,
        "status": None if filters.status == "open" else filters.status,
        "priority": filters.priority,
        "class": filters.classes or None,
        "breached": "1" if filters.breached else None,
        "theme": filters.theme,
    }
    return {key: value for key, value in args.items() if value is not None}


def relative(moment: datetime | None, now: datetime) -> str:
    """'in 5 h', '2 d overdue' – how a deadline reads at a glance."""
    if moment is None:
        return ""
    delta = moment - now
    late = delta < timedelta(0)
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        amount = f"{max(1, round(seconds / 60))} min"
    elif seconds < 48 * 3600:
        amount = f"{round(seconds / 3600)} h"
    else:
        amount = f"{round(seconds / 86400)} d"
    return f"{amount} overdue" if late else f"in {amount}"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.1f} h" if hours < 10 else f"{round(hours)} h"
    return f"{hours / 24:.1f} d"


@bp.get("/cases")
def queue():
    now = utcnow()
    filters, page_number, ignored = parse_filters(request.args, current_user)
    args = _args(filters)

    def queue_url(**changes) -> str:
        merged = {**args, **changes}
        return url_for("cases.queue", **{k: v for k, v in merged.items() if v is not None})

    return render_template(
        "cases/queue.html",
        now=now,
        filters=filters,
        args=args,
        ignored=ignored,
        page=queries.queue_page(
            current_user, filters, now=now, page=page_number, per_page=PER_PAGE
        ),
        counts=queries.tab_counts(current_user, now=now),
        figures=queries.cached_loop_figures(
            current_user,
            filters.view,
            now=now,
            seconds=current_app.config["FEEDBACK_FIGURES_CACHE_SECONDS"],
        ),  # fmt: skip
        view_labels=VIEW_LABELS,
        status_labels=STATUS_FILTER_LABELS,
        priorities=PRIORITIES,
        classes=ABC_CLASSES,
        themes=load_themes(),
        queue_url=queue_url,
        relative=relative,
        duration=duration,
    )


def _visible_case(case_id: int):
    """The case if the signed-in person may see it; 404 otherwise (no hint it exists)."""
    return services.get_case_for(current_user, case_id)


def _status_form(case) -> StatusForm:
    form = StatusForm(prefix="status")
    moves = services.allowed_moves(case.status)
    form.status.choices = [(s, STATUS_LABELS[s]) for s in moves]
    form.root_cause.choices = [("", "Not set")] + [
        (key, theme.name["en"]) for key, theme in load_themes().items()
    ]
    return form


def _assign_form(case) -> AssignForm:
    form = AssignForm(prefix="assign")
    people = detail.assignable_people()
    form.target.choices = {  # a dict renders as <optgroup>s
        "A team's queue": [(f"team:{t.id}", t.name) for t in detail.teams()],
        "A person": [
            (f"user:{u.id}", u.display_name + (f" · {u.team.name}" if u.team else ""))
            for u in people
        ],
    }
    return form


@bp.get("/cases/<int:case_id>")
def case_page(case_id: int):
    case = _visible_case(case_id)
    now = utcnow()
    may_act = services.can_act(current_user, case)
    assign_form = _assign_form(case)
    assign_form.target.data = (  # the list opens on whoever holds the case now
        f"user:{case.assignee_id}" if case.assignee_id else f"team:{case.team_id}"
    )
    return render_template(
        "cases/case.html",
        now=now,
        view=detail.case_detail(case),
        may_act=may_act,
        status_form=_status_form(case),
        comment_form=CommentForm(prefix="comment"),
        assign_form=assign_form,
        status_labels=STATUS_LABELS,
        themes=load_themes(),
        relative=relative,
        closed_statuses=CLOSED_STATUSES,
    )


def _back(case_id: int):
    return redirect(url_for("cases.case_page", case_id=case_id), code=303)


def _run(case_id: int, action, success: str):
    """Run one service action and commit; refusals become a message, not a stack trace."""
    try:
        action()
    except services.NotAllowed as exc:
        db.session.rollback()
        return error_response(403, str(exc))
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc)[:300], "error")
        return _back(case_id)
    db.session.commit()
    flash(success, "success")
    return _back(case_id)


def _form_error(form, case_id: int):
    first = next(iter(form.errors.values()), ["Please check the form."])
    flash(first[0] if isinstance(first, list) else str(first), "error")
    return _back(case_id)


@bp.post("/cases/<int:case_id>/status")
def change_status(case_id: int):
    case = _visible_case(case_id)
    form = _status_form(case)
    form.status.choices = list(STATUS_LABELS.items())  # the service judges the move
    if not form.validate_on_submit():
        return _form_error(form, case_id)
    status = form.status.data

    def act():
        services.change_status(
            current_user, case, status, note=form.note.data, root_cause=form.root_cause.data
        )
        if status not in CLOSED_STATUSES and (form.note.data or "").strip():
            services.add_comment(current_user, case, form.note.data)  # a note is never lost
        if status == "resolved" and form.ask_followup.data:
            request_followup(case)

    return _run(case_id, act, f"Case #{case_id} is now {STATUS_LABELS[status].lower()}.")


@bp.post("/cases/<int:case_id>/comment")
def comment(case_id: int):
    case = _visible_case(case_id)
    form = CommentForm(prefix="comment")
    if not form.validate_on_submit():
        return _form_error(form, case_id)
    return _run(
        case_id, lambda: services.add_comment(current_user, case, form.text.data), "Note added."
    )


@bp.post("/cases/<int:case_id>/assign")
def assign(case_id: int):
    case = _visible_case(case_id)
    form = _assign_form(case)
    if request.form.get("assign-target") == "me":  # the "Take it" button
        form.target.choices = [("me", "me")]
    if not form.validate_on_submit():
        return _form_error(form, case_id)
    kind, _, ident = form.target.data.partition(":")
    if kind == "me":
        person = db.session.get(User, current_user.id)
        return _run(case_id, lambda: services.reassign(current_user, case, assignee=person),
                    "The case is yours now.")  # fmt: skip
    if kind == "team":
        team = db.session.get(Team, int(ident))
        if team is None:
            return _form_error(form, case_id)
        return _run(case_id, lambda: services.reassign(current_user, case, team_id=team.id),
                    f"Moved to the {team.name} queue.")  # fmt: skip
    person = db.session.get(User, int(ident))
    if person is None:
        return _form_error(form, case_id)
    return _run(case_id, lambda: services.reassign(current_user, case, assignee=person),
                f"Given to {person.display_name}.")  # fmt: skip
