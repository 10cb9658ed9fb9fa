"""Sign-in, sign-out, the layout and the error pages, through the test client."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, csrf_token

from feedback.auth.routes import is_safe_next
from feedback.extensions import db

GENERIC = "Wrong e-mail or password."


def _post_login(client, email, password, **extra):
    token = csrf_token(client, "/login")
    data = {"email": email, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data)


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def test_csrf_is_enabled_in_tests(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_login_page_renders(client):
    response = client.get("/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Sign in · Feedback Loop</title>" in page
    assert 'name="email"' in page and 'name="password"' in page
    assert 'name="viewport"' in page
    assert "Sign out" not in page


def test_good_login_redirects_and_shows_the_user(client, create_user):
    user = create_user(email="Ann@Example.com", name="Ann Agent", role="agent")
    response = _post_login(client, "ann@example.com", PASSWORD)
    assert response.status_code in (302, 303)
    assert _signed_in(client)
    start = client.get(response.headers["Location"], follow_redirects=True)
    page = start.get_data(as_text=True)
    assert start.status_code == 200
    assert user.display_name in page
    assert 'action="/logout"' in page


@pytest.mark.parametrize("case", ["wrong password", "unknown e-mail", "inactive user"])
def test_failed_logins_look_the_same(client, create_user, case):
    user = create_user(email="bo@example.com")
    email, password = "bo@example.com", PASSWORD
    if case == "wrong password":
        password = "not the password at all"
    elif case == "unknown e-mail":
        email = "nobody@example.com"
    else:
        user.active = False
        db.session.commit()
    response = _post_login(client, email, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count(GENERIC) == 1
    assert "inactive" not in page.lower() and "unknown" not in page.lower()
    assert not _signed_in(client)


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_login_without_a_valid_csrf_token_is_refused(client, create_user, token):
    user = create_user()
    data = {"email": user.email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your form expired or was sent from another site" in page
    assert "Traceback" not in page
    assert not _signed_in(client)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(client, create_user, target):
    user = create_user()
    response = _post_login(client, user.email, PASSWORD, next=target)
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location.startswith("/")


def test_next_to_a_local_page_is_honoured(client, create_user):
    user = create_user()
    page = client.get("/login?next=/home").get_data(as_text=True)
    assert 'value="/home"' in page
    response = _post_login(client, user.email, PASSWORD, next="/home?x=1")
    assert response.headers["Location"] == "/home?x=1"


def test_is_safe_next():
    assert is_safe_next("/customers?page=2")
    for bad in ("", None, "customers", "http://x", "//x", "/\\x", "/\nx", "\\\\x"):
        assert not is_safe_next(bad)


def test_logout_needs_post_and_csrf(client, login_as):
    login_as("agent")
    refused = client.get("/logout")
    assert refused.status_code == 405
    assert "Traceback" not in refused.get_data(as_text=True)
    forged = client.post("/logout", data={"csrf_token": "nope"})
    assert forged.status_code == 400
    assert _signed_in(client)

    token = csrf_token(client, "/home")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith("/login")
    assert not _signed_in(client)
    assert "You are signed out." in client.get("/login").get_data(as_text=True)


def test_front_door(client, login_as):
    assert client.get("/").headers["Location"].endswith("/login")
    login_as("manager")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cases")  # start with the work waiting


def test_staff_pages_send_strangers_to_login(client):
    for path in ("/home",):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login?next=" in response.headers["Location"], path


def test_login_rate_limit_answers_with_a_friendly_page(make_app, create_user):
    app = make_app(FEEDBACK_LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        user = create_user()
        for _ in range(3):
            assert _post_login(client, user.email, "wrong password 123").status_code == 200
        response = _post_login(client, user.email, PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many attempts" in page
    assert client.get("/login").status_code == 200  # only the POST is limited


def test_default_limit_is_ten_per_minute(client, create_user):
    user = create_user()
    codes = [_post_login(client, user.email, "wrong password 123").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429


def test_session_cookie_flags(client, login_as):
    login_as("agent")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_session_cookie_is_secure_behind_https(make_app, create_user):
    app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    client = app.test_client()
    with app.app_context():
        user = create_user()
        response = _post_login(client, user.email, PASSWORD, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith("session=")]
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]
    assert remember and "Secure" in remember[0] and "HttpOnly" in remember[0]


def test_login_clears_what_the_session_held_before(client, create_user):
    user = create_user()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "stale message")]
        session["leftover"] = "from before"
    _post_login(client, user.email, PASSWORD)
    with client.session_transaction() as session:
        assert "leftover" not in session and "_flashes" not in session


def test_deactivated_user_loses_the_session(client, login_as):
    user = login_as("agent")
    assert client.get("/home").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/home").status_code == 302


@pytest.mark.parametrize(
    ("method", "path", "code", "text"),
    [
        ("get", "/no-such-page", 404, "Page not found"),
        ("delete", "/login", 405, "Not allowed here"),
    ],
)
def test_error_pages_are_friendly(client, method, path, code, text):
    response = getattr(client, method)(path)
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert text in page and "· Feedback Loop</title>" in page
    assert "Traceback" not in page and "werkzeug" not in page.lower()


def test_json_clients_get_json_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.is_json and "error" in response.get_json()


def test_server_errors_are_friendly(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_filters(app):
    from datetime import UTC, date, datetime

    env = app.jinja_env
    with app.test_request_context():
        render = lambda s, **kw: env.from_string(s).render(**kw)  # noqa: E731
        assert render("{{ 1234567.4|money('EUR') }}") == "1,234,567 EUR"
        assert render("{{ v|money('DKK', 2) }}", v=-1234.5) == "−1,234.50 DKK"
        assert render("{{ none|money('EUR') }}") == "—"
        winter = datetime(2024, 1, 15, 23, 30, tzinfo=UTC)
        assert render("{{ v|datetime }}", v=winter) == "2024-01-16 00:30"  # Copenhagen
        assert render("{{ v|date }}", v=winter) == "2024-01-16"
        assert render("{{ v|date }}", v=date(2024, 2, 29)) == "2024-02-29"
        assert render("{{ none|datetime }}") == "—"
