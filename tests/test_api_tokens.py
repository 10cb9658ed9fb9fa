"""Integration tokens: the services directly, `feedback tokens ...`, and /admin/tokens."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from conftest import csrf_token
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.integrations import tokens
from feedback.integrations.models import ApiToken

SECRET = re.compile(r"fl_[A-Za-z0-9_-]{43}")


def _create(name="ERP", scopes="read", actor=None) -> tuple[ApiToken, str]:
    token, secret = tokens.create_token(name, scopes, actor)
    db.session.commit()
    return token, secret


def _token_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def _reload(token: ApiToken) -> ApiToken:
    db.session.expire_all()
    return db.session.get(ApiToken, token.id)


# --- services --------------------------------------------------------------------------------


def test_only_the_hash_of_the_secret_is_stored():
    token, secret = _create("ERP nightly orders", "read,write")
    assert SECRET.fullmatch(secret)
    assert token.prefix == secret[:9] and len(token.prefix) == 9
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = db.session.execute(select(ApiToken.__table__)).one()
    assert all(secret not in str(value) for value in row)
    assert token.created_by_id is None and token.created_at is not None
    assert token.last_used_at is None and token.revoked_at is None


def test_each_token_gets_its_own_secret():
    secrets = {_create(f"T{n}")[1] for n in range(5)}
    assert len(secrets) == 5
    assert len(set(db.session.scalars(select(ApiToken.secret_hash)))) == 5


def test_an_admin_actor_is_recorded_and_other_roles_are_refused(create_user):
    admin = create_user(role="admin")
    token, _ = _create(actor=admin)
    assert token.created_by_id == admin.id
    manager = create_user(role="manager")
    with pytest.raises(DomainError, match="Only administrators"):
        tokens.create_token("CRM", "read", manager)
    with pytest.raises(DomainError, match="Only administrators"):
        tokens.revoke_token("ERP", manager)
    assert _reload(token).revoked_at is None


@pytest.mark.parametrize(
    ("asked", "stored"),
    [
        ("read", "read"),
        ("write", "read,write"),
        ("admin", "read,write,admin"),
        ("read,write", "read,write"),
        (" Write , READ ,", "read,write"),
        (["admin", "read"], "read,write,admin"),
    ],
)
def test_scopes_are_stored_with_what_they_imply(asked, stored):
    token, _ = _create(scopes=asked)
    assert token.scopes == stored


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        ("read", {"read"}),
        ("write", {"read", "write"}),
        ("admin", {"read", "write", "admin"}),
    ],
)
def test_has_scope_follows_the_nesting(scopes, allowed):
    token, _ = _create(scopes=scopes)
    assert {scope for scope in ("read", "write", "admin") if tokens.has_scope(token, scope)} == (
        allowed
    )


def test_has_scope_refuses_revoked_tokens_and_unknown_scopes():
    token, _ = _create(scopes="admin")
    tokens.revoke_token(token.id)
    assert not tokens.has_scope(token, "read")
    assert not tokens.has_scope(None, "read")
    with pytest.raises(ValueError, match="unknown scope"):
        tokens.has_scope(token, "reed")


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", "read", "needs a name"),
        ("   ", "read", "needs a name"),
        (None, "read", "needs a name"),
        ("x" * 81, "read", "at most 80 characters"),
        ("two\nlines", "read", "line breaks"),
        ("ERP", "", "at least one scope"),
        ("ERP", None, "at least one scope"),
        ("ERP", " , ", "at least one scope"),
        ("ERP", [], "at least one scope"),
        ("ERP", "read,delete", "Unknown scope 'delete'"),
    ],
)
def test_bad_token_input_is_refused(name, scopes, message):
    with pytest.raises(tokens.TokenError, match=message) as refusal:
        tokens.create_token(name, scopes)
    assert refusal.value.field in ("name", "scopes")
    db.session.rollback()
    assert _token_count() == 0


def test_a_name_of_80_characters_is_fine_and_is_trimmed():
    token, _ = _create("  " + "n" * 80 + " ")
    assert token.name == "n" * 80


def test_active_names_are_unique_but_a_revoked_name_can_be_reused():
    first, _ = _create("CRM")
    with pytest.raises(tokens.TokenError, match="already called 'CRM'"):
        tokens.create_token("CRM", "write")
    db.session.rollback()
    tokens.revoke_token("CRM")
    second, _ = _create("CRM")
    third, _ = _create("crm")  # names are compared exactly
    assert len({first.id, second.id, third.id}) == 3


def test_the_database_refuses_two_active_tokens_with_one_name(monkeypatch):
    _create("CRM")
    row = {"name": "CRM", "prefix": "fl_x", "secret_hash": "0" * 64, "scopes": "read"}
    with pytest.raises(IntegrityError):
        db.session.execute(insert(ApiToken).values(created_at=utcnow(), **row))
    db.session.rollback()
    # A create that races another past the name check still gets a readable refusal.
    monkeypatch.setattr(tokens, "_active_named", lambda name: None)
    with pytest.raises(tokens.TokenError, match="already called 'CRM'"):
        tokens.create_token("CRM", "read")
    db.session.rollback()
    assert _token_count() == 1


@pytest.mark.parametrize("scopes", ["admin", "write", "write,read", ""])
def test_the_database_keeps_scopes_in_their_stored_form(scopes):
    row = {"name": "X", "prefix": "fl_x", "secret_hash": "0" * 64, "scopes": scopes}
    with pytest.raises(IntegrityError):
        db.session.execute(insert(ApiToken).values(created_at=utcnow(), **row))
    db.session.rollback()


def test_revoke_by_name_or_id():
    by_name, _ = _create("A")
    by_id, _ = _create("B")
    assert tokens.revoke_token(" A ") is by_name
    assert tokens.revoke_token(by_id.id) is by_id
    db.session.commit()
    assert _reload(by_name).revoked_at is not None and _reload(by_id).revoked_at is not None


def test_revoking_an_unknown_or_revoked_token_is_refused():
    token, _ = _create("A")
    with pytest.raises(NotFound, match="no integration token 'B'"):
        tokens.revoke_token("B")
    with pytest.raises(NotFound, match="no integration token number"):
        tokens.revoke_token(token.id + 100)
    tokens.revoke_token("A")
    db.session.commit()
    revoked_at = _reload(token).revoked_at
    for name_or_id in ("A", token.id):
        with pytest.raises(tokens.TokenError, match="already revoked"):
            tokens.revoke_token(name_or_id)
    assert _reload(token).revoked_at == revoked_at


def test_authenticate_finds_the_active_token_of_a_secret():
    token, secret = _create("ERP", "write")
    _create("CRM")
    assert tokens.authenticate(secret) is token
    assert tokens.authenticate(f"  {secret}\n") is token
    db.session.commit()
    assert _reload(token).last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda secret: None,
        lambda secret: "",
        lambda secret: secret.encode(),
        lambda secret: 12345,
        lambda secret: f"Bearer {secret}",
        lambda secret: secret + "x",
        lambda secret: secret[:-1],
        lambda secret: "FL_" + secret[3:],
        lambda secret: secret + "a" * 500,
        lambda secret: secret[:-3] + "øæå",
        lambda secret: secret[:-1] + "\udcff",
    ],
)
def test_authenticate_refuses_malformed_values(mangle):
    _, secret = _create()
    assert tokens.authenticate(mangle(secret)) is None


def test_authenticate_refuses_unknown_and_revoked_secrets():
    token, secret = _create()
    assert tokens.authenticate("fl_" + "A" * 43) is None
    tokens.revoke_token(token.id)
    db.session.commit()
    assert tokens.authenticate(secret) is None
    assert _reload(token).last_used_at is None


def test_last_used_is_written_at_most_once_a_minute():
    token, secret = _create()
    start = utcnow().replace(microsecond=0)
    tokens.authenticate(secret, now=start)
    db.session.commit()
    tokens.authenticate(secret, now=start + timedelta(seconds=59))
    assert not db.session.dirty  # no write for a call within the minute
    db.session.commit()
    assert _reload(token).last_used_at == start
    tokens.authenticate(secret, now=start + timedelta(seconds=60))
    db.session.commit()
    assert _reload(token).last_used_at == start + timedelta(seconds=60)


def test_list_puts_active_tokens_first():
    for name in ("c", "a", "b"):
        _create(name)
    tokens.revoke_token("a")
    db.session.commit()
    assert [(t.name, t.is_active) for t in tokens.list_tokens()] == [
        ("b", True),
        ("c", True),
        ("a", False),
    ]


# --- CLI -------------------------------------------------------------------------------------


def _cli(runner, *args):
    return runner.invoke(args=["tokens", *args])


def test_cli_creates_lists_and_revokes(runner):
    created = _cli(runner, "create", "ERP nightly", "--scopes", "read,write")
    assert created.exit_code == 0, created.output
    secret = SECRET.search(created.output).group(0)
    assert created.output.count(secret) == 1
    assert "will not be shown again" in created.output
    assert "read,write" in created.output
    token = tokens.authenticate(secret)
    assert token.name == "ERP nightly"
    db.session.commit()

    listed = _cli(runner, "list")
    assert listed.exit_code == 0, listed.output
    header, row = listed.output.splitlines()
    assert header.split() == [
        "name",
        "prefix",
        "scopes",
        "acts",
        "as",
        "created",
        "last",
        "used",
        "revoked",
    ]
    assert row.startswith("ERP nightly") and f"{token.prefix}…" in row and "read,write" in row
    assert secret not in listed.output
    assert row.rstrip().endswith("-")  # not revoked

    revoked = _cli(runner, "revoke", "ERP nightly")
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked token 'ERP nightly' ({token.prefix}…)" in revoked.output
    assert tokens.authenticate(secret) is None
    row = _cli(runner, "list").output.splitlines()[1]
    assert not row.rstrip().endswith("-")


def test_cli_list_without_tokens(runner):
    result = _cli(runner, "list")
    assert result.exit_code == 0
    assert "No integration tokens yet" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "ERP"], "at least one scope"),
        (["create", "ERP", "--scopes", ""], "at least one scope"),
        (["create", "ERP", "--scopes", "read,root"], "Unknown scope 'root'"),
        (["create", "", "--scopes", "read"], "needs a name"),
        (["create", "x" * 81, "--scopes", "read"], "at most 80 characters"),
        (["create", "Taken", "--scopes", "read"], "already called 'Taken'"),
        (["revoke", "Nobody"], "no integration token 'Nobody'"),
        (["revoke", "Old"], "already revoked"),
    ],
)
def test_cli_refuses_bad_input_in_one_line(runner, args, message):
    _create("Taken")
    _create("Old")
    tokens.revoke_token("Old")
    db.session.commit()
    before = _token_count()
    result = _cli(runner, *args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not SECRET.search(result.output)
    assert _token_count() == before


# --- admin page ------------------------------------------------------------------------------


def _post(client, path, data, token_from="/admin/tokens"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def _create_on_page(client, name="ERP", scopes=("read",)):
    return _post(client, "/admin/tokens", {"name": name, "scopes": list(scopes)})


def test_admin_creates_a_token_and_sees_the_secret_once(client, login_as):
    admin = login_as("admin")
    response = _create_on_page(client, "CRM sync", ("write",))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<span id="secret">([^<]+)</span>', page).group(1)
    assert "This is the only time it is" in page
    token = tokens.authenticate(secret)
    assert (token.name, token.scopes, token.created_by_id) == ("CRM sync", "read,write", admin.id)
    db.session.commit()

    listed = client.get("/admin/tokens").get_data(as_text=True)
    assert "CRM sync" in listed and f"{token.prefix}…" in listed
    assert secret not in listed
    with client.session_transaction() as session:
        assert secret not in str(dict(session))
    # Reloading the result page re-posts the form: refused, and no secret on the page.
    again = _create_on_page(client, "CRM sync", ("write",))
    assert "already called" in again.get_data(as_text=True)
    assert not SECRET.search(again.get_data(as_text=True))
    assert _token_count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "ERP"}, "at least one scope"),
        ({"name": "", "scopes": "read"}, "This field is required"),
        ({"name": "x" * 81, "scopes": "read"}, "Field cannot be longer than 80 characters"),
        ({"name": "ERP", "scopes": "root"}, "is not a valid choice"),
    ],
)
def test_bad_input_on_the_page_creates_nothing(client, login_as, data, message):
    login_as("admin")
    response = _post(client, "/admin/tokens", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert not SECRET.search(page)
    assert _token_count() == 0


def test_admin_revokes_a_token_after_confirming(client, login_as):
    login_as("admin")
    token, secret = _create("Chat alerts")
    _create("ERP")
    listed = client.get("/admin/tokens").get_data(as_text=True)
    confirm_path = f"/admin/tokens/{token.id}/revoke"
    assert f'href="{confirm_path}"' in listed

    confirm = client.get(confirm_path)
    assert confirm.status_code == 200
    assert "Revoke Chat alerts?" in confirm.get_data(as_text=True)
    assert _reload(token).revoked_at is None  # looking is not revoking

    response = _post(client, confirm_path, {}, token_from=confirm_path)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Revoked Chat alerts" in page
    assert tokens.authenticate(secret) is None
    # Active first; the revoked one greyed, without a revoke button.
    assert page.index("ERP") < page.index('<tr class="is-inactive">') < page.rindex("Chat alerts")
    assert f'href="{confirm_path}"' not in page

    again = _post(client, confirm_path, {}, token_from="/admin/tokens")
    assert again.status_code == 303
    assert "already revoked" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_posts_without_csrf_are_rejected(client, login_as):
    login_as("admin")
    token, secret = _create()
    assert client.post("/admin/tokens", data={"name": "CRM", "scopes": "read"}).status_code == 400
    assert client.post(f"/admin/tokens/{token.id}/revoke").status_code == 400
    assert _token_count() == 1
    assert tokens.authenticate(secret) is token


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_other_roles_are_refused(client, login_as, role):
    login_as(role)
    token, _ = _create()
    for path in ("/admin/tokens", f"/admin/tokens/{token.id}/revoke"):
        assert client.get(path).status_code == 403, path
    home = client.get("/home").get_data(as_text=True)
    token_value = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', home).group(1)
    data = {"name": "Sneaky", "scopes": "admin", "csrf_token": token_value}
    assert client.post("/admin/tokens", data=data).status_code == 403
    revoke = client.post(f"/admin/tokens/{token.id}/revoke", data={"csrf_token": token_value})
    assert revoke.status_code == 403
    assert _token_count() == 1 and _reload(token).revoked_at is None
    assert 'href="/admin/tokens"' not in home


def test_strangers_are_sent_to_login(client):
    token, _ = _create()
    for path in ("/admin/tokens", f"/admin/tokens/{token.id}/revoke"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login?next=" in response.headers["Location"]
    assert client.post("/admin/tokens", data={"name": "x", "scopes": "read"}).status_code in (
        302,
        400,
    )
    assert _token_count() == 1


def test_admin_nav_links_the_page(client, login_as):
    login_as("admin")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert 'href="/admin/tokens" class="active"' in page
    # One "Integrations" link in the top bar; tabs for tokens, webhooks and the API reference.
    assert ">Integrations</a>" in page
    assert 'href="/admin/webhooks"' in page and 'href="/api/docs"' in page
    webhooks = client.get("/admin/webhooks").get_data(as_text=True)
    assert 'href="/admin/tokens" class="active" aria-current="page">Integrations' in webhooks


def test_other_roles_see_no_integrations_link(client, login_as):
    login_as("manager")
    page = client.get("/cases/").get_data(as_text=True)
    assert "Integrations" not in page and "/admin/tokens" not in page


def test_names_are_escaped_everywhere(client, login_as):
    login_as("admin")
    name = "<script>alert(1)</script>"
    created = _create_on_page(client, name).get_data(as_text=True)
    token = db.session.scalar(select(ApiToken))
    pages = [
        created,
        client.get("/admin/tokens").get_data(as_text=True),
        client.get(f"/admin/tokens/{token.id}/revoke").get_data(as_text=True),
    ]
    for page in pages:
        assert name not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_token_is_a_friendly_404(client, login_as):
    login_as("admin")
    response = client.get("/admin/tokens/999999/revoke")
    assert response.status_code == 404
    assert "no integration token" in response.get_data(as_text=True)
