"""Admin page for integration tokens: list, create (secret shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from feedback.auth.decorators import require_role
from feedback.auth.services import active_users
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.integrations import tokens
from feedback.integrations.forms import SCOPE_DESCRIPTIONS, NewTokenForm, RevokeTokenForm

bp = Blueprint("integrations", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    """Strangers go to sign-in, other roles get 403 (as on the other admin pages)."""
    return require_role("admin")


def _show_refusal(form, exc: DomainError) -> None:
    """A service refusal next to its field, or above the form."""
    db.session.rollback()
    field = getattr(form, getattr(exc, "field", None) or "", None)
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def _with_users(form: NewTokenForm) -> NewTokenForm:
    form.acts_as.choices = [("", "Nobody (reads cases only)")] + [
        (user.email, f"{user.display_name} ({user.role})") for user in active_users()
    ]
    return form


def _list_page(form):
    return render_template(
        "admin/tokens.html",
        form=form,
        tokens=tokens.list_tokens(),
        scope_descriptions=SCOPE_DESCRIPTIONS,
    )


@bp.get("/tokens")
def tokens_list():
    return _list_page(_with_users(NewTokenForm()))


@bp.post("/tokens")
def token_create():
    form = _with_users(NewTokenForm())
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(
                form.name.data, form.scopes.data, current_user, acts_as=form.acts_as.data
            )
            db.session.commit()
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            # Rendered, not redirected: the secret must not travel in a (readable) session
            # cookie, and no-store keeps it out of the browser's cache and history. Reloading
            # re-posts the form, which the name check refuses, so it is never shown twice.
            response = make_response(
                render_template("admin/token_created.html", token=token, secret=secret)
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return _list_page(form)


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def token_revoke(token_id: int):
    """GET asks for confirmation; POST revokes."""
    token = tokens.get_token(token_id)
    form = RevokeTokenForm()
    if form.validate_on_submit():
        try:
            tokens.revoke_token(token.id, current_user)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(f"Revoked {token.name} ({token.prefix}…): it no longer opens the API.",
                  "success")  # fmt: skip
        return redirect(url_for("integrations.tokens_list"), code=303)
    return render_template("admin/token_revoke.html", token=token, form=form)
