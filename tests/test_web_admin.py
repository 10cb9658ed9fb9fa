"""Admin pages: staff accounts, through the test client, and their services directly."""

from __future__ import annotations

import io
import re

import pytest
from conftest import PASSWORD, csrf_token
from sqlalchemy import func, select

from feedback.admin import services
from feedback.auth.models import Team, User
from feedback.errors import DomainError
from feedback.extensions import db

ADMIN_PAGES = ("/admin/users", "/admin/users/new")


def _user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _post(client, path, data, token_from=None):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token})


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_admins_see_admin_pages(client, login_as, role):
    login_as(role)
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.get_data(as_text=True)
    assert client.post("/admin/users/new", data={}).status_code in (400, 403)
    assert 'href="/admin/users"' not in client.get("/home").get_data(as_text=True)


def test_strangers_are_sent_to_login(client):
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302
        assert "/login?next=" in response.headers["Location"]


def test_admin_sees_the_user_list(client, login_as, create_user):
    admin = login_as("admin", name="Ada Admin")
    create_user(email="carl@example.com", name="Carl Agent", team="Support")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Ada Admin" in page and "Carl Agent" in page and "Support" in page
    assert admin.email in page
    assert 'href="/admin/users"' in page  # admin nav


def test_admin_creates_a_user_with_a_generated_password(client, login_as, login):
    login_as("admin")
    response = _post(
        client,
        "/admin/users/new",
        {
            "email": "New.Person@Example.com",
            "name": "New Person",
            "role": "manager",
            "team": "North",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r'<span id="password">([^<]+)</span>', page).group(1)
    user = db.session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert user.role == "manager" and user.team.name == "North"
    assert password not in user.password_hash and user.check_password(password)
    # shown once: not in a flash or anywhere afterwards
    assert password not in client.get("/admin/users").get_data(as_text=True)
    with client.session_transaction() as session:
        assert password not in str(dict(session))

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/users")})
    assert login("new.person@example.com", password).status_code in (302, 303)


def test_admin_creates_a_user_with_a_chosen_password(client, login_as, login):
    login_as("admin")
    response = _post(
        client,
        "/admin/users/new",
        {"email": "pia@example.com", "role": "agent", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert "can now sign in" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "taken@example.com", "role": "agent"}, "already exists"),
        ({"email": "not-an-address", "role": "agent"}, "is not a valid e-mail address"),
        ({"email": "weak@example.com", "role": "agent", "password": "short"}, "at least 10"),
        ({"email": "boss@example.com", "role": "superuser"}, "Not a valid choice"),
        ({"email": "", "role": "agent"}, "This field is required"),
    ],
)
def test_bad_new_user_input_writes_nothing(client, login_as, create_user, data, message):
    login_as("admin")
    create_user(email="taken@example.com")
    before = _user_count()
    response = _post(client, "/admin/users/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'aria-invalid="true"' in page
    assert _user_count() == before


def test_admin_edits_role_team_and_active(client, login_as, create_user):
    login_as("admin")
    user = create_user(email="eve@example.com", role="agent")
    path = f"/admin/users/{user.id}"
    assert 'value="eve@example.com"' not in client.get(path).get_data(as_text=True)
    response = _post(client, path, {"name": "Eve", "role": "manager", "team": "South"})
    assert response.status_code == 303
    db.session.expire_all()
    assert (user.name, user.role, user.team.name, user.active) == ("Eve", "manager", "South", False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "admin"}, "cannot deactivate your own account"),
        ({"role": "agent", "active": "y"}, "cannot take away your own admin role"),
    ],
)
def test_admin_cannot_lock_themselves_out(client, login_as, data, message):
    admin = login_as("admin", name="Me")
    response = _post(client, f"/admin/users/{admin.id}", {"name": "Changed", **data})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (admin.name, admin.role, admin.active) == ("Me", "admin", True)


def test_reset_password_shows_a_new_one_once(client, login_as, create_user):
    login_as("admin")
    user = create_user(email="lost@example.com")
    response = _post(client, f"/admin/users/{user.id}/password", {}, f"/admin/users/{user.id}")
    password = re.search(r'<span id="password">([^<]+)</span>', response.get_data(as_text=True))
    db.session.expire_all()
    assert not user.check_password(PASSWORD)
    assert user.check_password(password.group(1))


def test_reset_password_needs_post_and_csrf(client, login_as, create_user):
    login_as("admin")
    user = create_user()
    assert client.get(f"/admin/users/{user.id}/password").status_code == 405
    assert client.post(f"/admin/users/{user.id}/password").status_code == 400
    db.session.expire_all()
    assert user.check_password(PASSWORD)


def test_unknown_user_is_a_friendly_404(client, login_as):
    login_as("admin")
    response = client.get("/admin/users/999999")
    assert response.status_code == 404
    assert "There is no staff account" in response.get_data(as_text=True)


# --- services, without a request -----------------------------------------------------------


def test_services_refuse_non_admins(create_user):
    manager = create_user(role="manager")
    with pytest.raises(DomainError):
        services.create_staff_user(manager, email="x@example.com", role="agent")
    with pytest.raises(DomainError):
        services.reset_password(manager, manager)


def test_update_clears_the_team_and_reuses_existing_ones(create_user):
    admin = create_user(role="admin")
    user = create_user(team="Support")
    services.update_staff_user(admin, user, name="", role="agent", team_name="support", active=True)
    assert user.team.name == "Support"
    assert db.session.scalar(select(func.count()).select_from(Team)) == 1
    services.update_staff_user(admin, user, name="", role="agent", team_name=" ", active=True)
    assert user.team is None


# --- imports page ----------------------------------------------------------------------------


def _upload(client, data: bytes | None, kind="customers", filename="data.csv", **flags):
    token = csrf_token(client, "/admin/imports")
    form = {"csrf_token": token, "kind": kind, "recompute": "y", **flags}
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post("/admin/imports", data=form, content_type="multipart/form-data")


def test_upload_too_large_is_a_friendly_413(make_app, create_user):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    with app.app_context():
        admin = create_user(role="admin")
        token = csrf_token(client, "/login")
        client.post(
            "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
        )
        response = _upload(client, b"external_id,name\n" + b"C1,x\n" * 1000)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Upload too large" in page and "2 KB" in page
    assert "Traceback" not in page


def test_imports_page_lists_the_expected_columns(client, login_as):
    login_as("admin")
    page = client.get("/admin/imports").get_data(as_text=True)
    assert "Expected columns" in page
    assert "external_id" in page


@pytest.fixture
def engine():
    return pytest.importorskip("feedback.customers.imports")


def _customer_count() -> int:
    from feedback.customers.models import Customer

    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Customer))


def _segment_runs() -> int:
    from feedback.customers.models import SegmentRun

    return db.session.scalar(select(func.count()).select_from(SegmentRun))


GOOD_CUSTOMERS = b"external_id,name,potential,language\nC1,Alfa A/S,high,da\nC2,Beta AB,low,sv\n"


def test_good_file_is_imported_and_segments_recomputed(client, login_as, engine):
    login_as("admin")
    response = _upload(client, GOOD_CUSTOMERS)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported." in page and "recomputed" in page
    assert re.search(r'<span class="count">2</span><span class="what">added', page)
    assert _customer_count() == 2
    assert _segment_runs() == 1


def test_bad_file_shows_problems_and_writes_nothing(client, login_as, engine):
    login_as("admin")
    data = GOOD_CUSTOMERS + b"C3,Gamma Oy,<script>alert(1)</script>,fi\n"
    page = _upload(client, data).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "4" in page  # the line number of the bad row
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert _customer_count() == 0
    assert _segment_runs() == 0


def test_dry_run_writes_nothing(client, login_as, engine):
    login_as("admin")
    page = _upload(client, GOOD_CUSTOMERS, dry_run="y").get_data(as_text=True)
    assert "Dry run" in page and "Nothing was saved" in page
    assert _customer_count() == 0
    assert _segment_runs() == 0


def test_upload_needs_a_csv_file(client, login_as, engine):
    login_as("admin")
    assert "Choose a CSV file to upload." in _upload(client, None).get_data(as_text=True)
    wrong = _upload(client, GOOD_CUSTOMERS, filename="data.xlsx").get_data(as_text=True)
    assert "Upload a .csv or .txt file." in wrong
    assert _customer_count() == 0


def test_forged_kind_is_refused(client, login_as, engine):
    login_as("admin")
    page = _upload(client, GOOD_CUSTOMERS, kind="users").get_data(as_text=True)
    assert "Not a valid choice" in page
    assert _customer_count() == 0
