"""Sign in, sign out, and the front door `/`."""

from __future__ import annotations

import secrets
from functools import cache
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from feedback.auth import bp, loader  # noqa: F401  (loader registers the user_loader)
from feedback.auth.forms import LoginForm
from feedback.auth.services import find_user_by_email
from feedback.extensions import limiter, login_manager

GENERIC_LOGIN_ERROR = "Wrong e-mail or password."


@cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so both answers take as long."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def is_safe_next(target: str | None) -> bool:
    """Only a relative path on this site: no scheme, no host, no '//' or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def home_url() -> str:
    """Where a signed-in person starts: their case queue, the work waiting for them."""
    for endpoint in ("cases.queue", "customers.list_customers"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("auth.home")


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url())


@bp.get("/home")
def home():
    """Placeholder start page while no feature page exists yet."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return render_template("auth/home.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FEEDBACK_LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(_after_login_url(form.next.data))
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user is None:
            check_password_hash(_dummy_hash(), form.password.data)
        elif user.check_password(form.password.data) and user.is_active:
            target = _after_login_url(form.next.data)
            _fresh_session()  # nothing from before sign-in (flashes, stale tokens) survives it
            login_user(user, remember=form.remember.data)
            return redirect(target, code=303)
        error = GENERIC_LOGIN_ERROR
    return render_template("auth/login.html", form=form, error=error)


def _fresh_session() -> None:
    """Empty the session, and forget the CSRF token this request already cached from it."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _after_login_url(target: str | None) -> str:
    return target if is_safe_next(target) else home_url()


@bp.post("/logout")
def logout():
    logout_user()
    _fresh_session()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), code=303)
