"""Admin pages for outgoing webhooks: the endpoints, one endpoint with its delivery log."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from feedback.auth.decorators import require_role
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.webhooks import bp, services
from feedback.webhooks.forms import EVENT_DESCRIPTIONS, ActionForm, EndpointForm, EventsForm


@bp.before_request
def _admins_only():
    """Strangers go to sign-in, other roles get 403 (as on the other admin pages)."""
    return require_role("admin")


def _endpoint(endpoint_id: int):
    try:
        return services.get_endpoint(endpoint_id)
    except NotFound:
        abort(404)


def _list_page(form):
    endpoints = services.list_endpoints()
    return render_template(
        "admin/webhooks.html",
        form=form,
        endpoints=endpoints,
        counts=services.delivery_counts([e.id for e in endpoints]),
        event_descriptions=EVENT_DESCRIPTIONS,
    )


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/webhooks")
def webhooks_list():
    return _list_page(EndpointForm())


@bp.post("/webhooks")
def webhook_create():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = services.add_endpoint(
                form.url.data, form.events.data, description=form.description.data,
                actor=current_user, allow_http=current_app.config["FEEDBACK_WEBHOOKS_ALLOW_HTTP"],
            )  # fmt: skip
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            field = getattr(form, getattr(exc, "field", None) or "", None)
            if field is not None:
                field.errors = [*field.errors, str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            return _no_store(_endpoint_page(endpoint, secret=endpoint.secret, created=True))
    return _list_page(form)


def _endpoint_page(endpoint, *, secret: str | None = None, created: bool = False,
                   events_form=None):  # fmt: skip
    failed_only = request.args.get("failed") == "1"
    page = services.deliveries(endpoint, failed_only=failed_only,
                               page=request.args.get("page", 1, type=int))  # fmt: skip
    events_form = events_form or EventsForm(data={"events": list(endpoint.events)})
    return render_template(
        "admin/webhook.html",
        hook=endpoint,  # not `endpoint`: base.html sets that name to the request's
        page=page,
        failed_only=failed_only,
        secret=secret,
        created=created,
        events_form=events_form,
        action=ActionForm(),
    )


@bp.get("/webhooks/<int:endpoint_id>")
def webhook_detail(endpoint_id: int):
    return _endpoint_page(_endpoint(endpoint_id))


def _act(endpoint_id: int, action, done: str):
    """Run one service action behind a CSRF-checked button; back to the endpoint page."""
    endpoint = _endpoint(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = action(endpoint)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        result = None
    else:
        flash(done, "success")
    return endpoint, result


@bp.post("/webhooks/<int:endpoint_id>/secret")
def webhook_secret(endpoint_id: int):
    """Show the signing secret (a POST, so it never sits in a link or the history)."""
    endpoint = _endpoint(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _no_store(_endpoint_page(endpoint, secret=endpoint.secret))


@bp.post("/webhooks/<int:endpoint_id>/rotate")
def webhook_rotate(endpoint_id: int):
    endpoint, secret = _act(endpoint_id, services.rotate_secret,
                            "New secret made; the old one keeps signing for 24 hours.")  # fmt: skip
    if secret is None:
        return redirect(url_for(".webhook_detail", endpoint_id=endpoint_id), code=303)
    return _no_store(_endpoint_page(endpoint, secret=secret))


@bp.post("/webhooks/<int:endpoint_id>/enable")
def webhook_enable(endpoint_id: int):
    _act(endpoint_id, services.enable_endpoint, "Enabled: pending deliveries go out now.")
    return redirect(url_for(".webhook_detail", endpoint_id=endpoint_id), code=303)


@bp.post("/webhooks/<int:endpoint_id>/disable")
def webhook_disable(endpoint_id: int):
    reason = f"Disabled by {current_user.display_name}"
    _act(endpoint_id, lambda e: services.disable_endpoint(e, reason), "Disabled.")
    return redirect(url_for(".webhook_detail", endpoint_id=endpoint_id), code=303)


@bp.post("/webhooks/<int:endpoint_id>/events")
def webhook_events(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = EventsForm()
    if form.validate_on_submit():
        try:
            services.update_endpoint(endpoint, events=form.events.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            form.events.errors = [*form.events.errors, str(exc)]
        else:
            flash("Events saved: they apply to events from now on.", "success")
            return redirect(url_for(".webhook_detail", endpoint_id=endpoint_id), code=303)
    return _endpoint_page(endpoint, events_form=form), 400


@bp.post("/webhooks/<int:endpoint_id>/remove")
def webhook_remove(endpoint_id: int):
    endpoint, _ = _act(endpoint_id, services.remove_endpoint, "Endpoint removed.")
    return redirect(url_for(".webhooks_list"), code=303)


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
def delivery_resend(delivery_id: int):
    try:
        delivery = services.get_delivery(delivery_id)
    except NotFound:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.resend(delivery)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"Delivery #{delivery.id} will be sent again within seconds.", "success")
    return redirect(url_for(".webhook_detail", endpoint_id=delivery.endpoint_id), code=303)
