"""Who may open the dashboard: managers and admins. Every route under the prefix is
guarded (the page, Dash's layout, dependencies, callback dispatch and component assets).
Strangers asking for the page go to the login page and come back; Dash's background
requests get a 401 instead of a login page they could not show. Agents get 403.

Dash's renderer sends the cookie `_csrf_token` back as the X-CSRFToken header on every
callback POST; we set that cookie to Flask-WTF's token, so the dispatch POST passes the
app's CSRF protection like any form."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from feedback.auth.decorators import user_has_role
from feedback.extensions import login_manager

ROLE = "manager"  # and admins (roles nest)
CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads


def _is_page_request(prefix: str) -> bool:
    """A person's browser asking for the page itself (not Dash's own requests)."""
    tail = request.path[len(prefix) :]
    return request.method == "GET" and not tail.startswith("_dash")


def _malformed_dispatch(dash_app) -> str | None:
    """Why a callback POST cannot be dispatched, or None. Dash itself would raise (a 500)
    on a body that is not its JSON or names a callback it does not have."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return "The request is not a dashboard update."
    output, inputs = payload.get("output"), payload.get("inputs")
    if not isinstance(output, str) or not isinstance(inputs, list):
        return "The request is not a dashboard update."
    # a callback run in the browser (clientside) has no function here to dispatch to
    if "callback" not in dash_app.callback_map.get(output, {}):
        return "The page is out of date. Reload it."
    return None


def install_access(app, prefix: str, dash_app) -> None:
    @app.before_request
    def guard_dashboard():
        if not (request.path + "/").startswith(prefix):
            return None
        if not current_user.is_authenticated:
            if _is_page_request(prefix):
                return login_manager.unauthorized()
            return jsonify(error="Your session has ended. Sign in again.", status=401), 401
        if not user_has_role(current_user, ROLE):
            abort(403)
        if request.method == "POST" and request.path == prefix + "_dash-update-component":
            problem = _malformed_dispatch(dash_app)
            if problem:
                return jsonify(error=problem, status=400), 400
        return None

    @app.after_request
    def hand_dash_the_csrf_token(response):
        if request.path.startswith(prefix) and current_user.is_authenticated:
            response.set_cookie(
                CSRF_COOKIE,
                generate_csrf(),
                path=prefix,
                samesite="Strict",
                secure=app.config.get("SESSION_COOKIE_SECURE", False),
                httponly=False,  # the renderer must read it
            )
        return response
