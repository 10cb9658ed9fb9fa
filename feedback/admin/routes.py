"""Admin pages: staff accounts and CSV imports."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from feedback.admin import bp, services, uploads
from feedback.admin.forms import (
    ROLE_DESCRIPTIONS,
    EditUserForm,
    ImportForm,
    NewUserForm,
    ResetPasswordForm,
    choices,
)
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.web import human_size


def _apply_error(form, exc: DomainError) -> None:
    """Show a service refusal next to its field, or above the form."""
    db.session.rollback()
    field = getattr(form, getattr(exc, "field", ""), None)
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def _password_page(user, password: str, *, created: bool):
    """The one time a password is shown; never cached by the browser or a proxy."""
    response = make_response(
        render_template("admin/password_once.html", user=user, password=password, created=created)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _user_form(form, **context):
    return render_template(
        "admin/user_form.html",
        form=form,
        teams=services.list_team_names(),
        role_descriptions=ROLE_DESCRIPTIONS,
        **context,
    )


@bp.get("/users")
def users():
    return render_template("admin/users.html", users=services.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, generated = services.create_staff_user(
                current_user,
                email=form.email.data,
                role=form.role.data,
                name=form.name.data or "",
                team_name=form.team.data,
                password=form.password.data or None,
            )
            db.session.commit()
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            if generated:
                return _password_page(user, generated, created=True)
            flash(f"{user.display_name} can now sign in with the password you chose.", "success")
            return redirect(url_for("admin.users"), code=303)
    return _user_form(form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = services.get_user(user_id)
    current = {
        "name": user.name,
        "role": user.role,
        "team": user.team.name if user.team else "",
        "active": user.active,
    }
    form = EditUserForm(data=current)  # a POST's own values take precedence
    if form.validate_on_submit():
        try:
            services.update_staff_user(
                current_user,
                user,
                name=form.name.data or "",
                role=form.role.data,
                team_name=form.team.data,
                active=form.active.data,
            )
            db.session.commit()
        except DomainError as exc:
            _apply_error(form, exc)  # rolled back: `user` shows what is stored again
        else:
            flash(f"Saved the changes to {user.display_name}.", "success")
            return redirect(url_for("admin.users"), code=303)
    return _user_form(form, user=user, reset_form=ResetPasswordForm())


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    user = services.get_user(user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash("The password was not reset; try again.", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id), code=303)
    password = services.reset_password(current_user, user)
    db.session.commit()
    return _password_page(user, password, created=False)


@bp.route("/imports", methods=["GET", "POST"])
def imports():
    form = ImportForm()
    form.kind.choices = choices((kind, kind.capitalize()) for kind in uploads.import_kinds())
    outcome = None
    if form.validate_on_submit():
        try:
            outcome = uploads.import_upload(
                form.kind.data,
                form.file.data.read(),
                config=current_app.config,
                dry_run=form.dry_run.data,
                recompute=form.recompute.data,
            )
        finally:
            if outcome is not None and outcome.saved:
                db.session.commit()
            else:
                db.session.rollback()
    return render_template(
        "admin/imports.html",
        form=form,
        outcome=outcome,
        columns=uploads.expected_columns(),
        max_upload=human_size(current_app.config.get("MAX_CONTENT_LENGTH")),
    )
