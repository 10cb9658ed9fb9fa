"""The API's common ground: bearer tokens and scopes, problem details, rate limits, cursor
pagination, and idempotent writes (on /api/v1/customers, the simplest resource)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from feedback.api.models import IdempotencyKey
from feedback.customers.models import Customer
from feedback.extensions import db, limiter
from feedback.integrations import tokens

PROBLEM = "application/problem+json"


def _token(scopes="read,write", name=None, acts_as=None) -> dict[str, str]:
    _, secret = tokens.create_token(name or f"T-{scopes}", scopes, acts_as=acts_as)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("https://")
    return body


def _customers(count: int) -> list[dict]:
    return [{"external_id": f"C{n:03d}", "name": f"Customer {n}"} for n in range(count)]


# --- authentication and scopes ---------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(client):
    response = client.get("/api/v1/customers")
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer fl_unknownunknownunknownunknownunknownunknown", "Bearer ", "Basic dXNlcjpwYXNz",
     "fl_nobearer", "Bearer " + "x" * 5000],
)  # fmt: skip
def test_unknown_or_malformed_credentials_are_401(client, header):
    response = client.get("/api/v1/customers", headers={"Authorization": header})
    _problem(response, 401)


def test_a_revoked_token_stops_at_once(client):
    headers = _token("read", name="CRM")
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    tokens.revoke_token("CRM")
    db.session.commit()
    body = _problem(client.get("/api/v1/customers", headers=headers), 401)
    assert "revoked" in body["detail"]


def test_a_read_token_cannot_write(client):
    headers = _token("read")
    response = client.post("/api/v1/customers", headers=headers, json={"rows": []})
    body = _problem(response, 403)
    assert "'write' scope" in body["detail"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_a_session_cookie_does_not_authenticate_the_api(client, login_as):
    login_as("admin")
    assert client.get("/admin/tokens").status_code == 200  # the session works for pages
    _problem(client.get("/api/v1/customers"), 401)
    _problem(client.post("/api/v1/customers", json={"rows": _customers(1)}), 401)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_writes_need_no_csrf_token(client, app):
    assert app.config.get("WTF_CSRF_ENABLED", True)  # the pages do check it
    response = client.post("/api/v1/customers", headers=_token(), json={"rows": _customers(2)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["created"] == 2


# --- problems --------------------------------------------------------------------------------


def test_unknown_paths_and_methods_are_problems_too(client):
    headers = _token()
    _problem(client.get("/api/v1/no-such-thing", headers=headers), 404)
    response = client.delete("/api/v1/customers", headers=headers)
    _problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    _problem(client.get("/api/v1/customers/NOPE", headers=headers), 404)


def test_bad_query_values_name_the_field(client):
    body = _problem(client.get("/api/v1/customers?limit=5000", headers=_token()), 422)
    assert body["errors"][0]["field"] == "limit" and body["errors"][0]["in"] == "query"
    body = _problem(client.get("/api/v1/customers?updated_since=yesterday",
                               headers=_token("read", name="r2")), 422)  # fmt: skip
    assert body["errors"][0]["field"] == "updated_since"


def test_a_server_error_is_a_problem_without_a_trace(client, app, monkeypatch):
    from feedback.api import records

    def broken(**_):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(records, "list_customers", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    body = _problem(client.get("/api/v1/customers", headers=_token()), 500)
    assert "secret internals" not in json.dumps(body) and "Traceback" not in json.dumps(body)


# --- rate limits -----------------------------------------------------------------------------


def test_calls_are_limited_per_token_with_retry_after(make_app):
    app = make_app(FEEDBACK_API_RATE_LIMIT="3 per minute")
    with app.app_context():
        first, second = _token("read", name="one"), _token("read", name="two")
        client = app.test_client()
        try:
            for _ in range(3):
                assert client.get("/api/v1/customers", headers=first).status_code == 200
            response = client.get("/api/v1/customers", headers=first)
            body = _problem(response, 429)
            assert 1 <= int(response.headers["Retry-After"]) <= 61
            assert "per token" in body["detail"]
            # Another token has its own allowance.
            assert client.get("/api/v1/customers", headers=second).status_code == 200
        finally:
            limiter.reset()


# --- bulk upserts ----------------------------------------------------------------------------


def test_bulk_upsert_creates_updates_and_counts(client):
    headers = _token()
    rows = _customers(3)
    created = client.post("/api/v1/customers", headers=headers, json={"rows": rows})
    assert created.get_json() == {
        "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "dry_run": False,
    }  # fmt: skip
    rows[1]["name"] = "Renamed"
    result = client.post("/api/v1/customers", headers=headers, json={"rows": rows}).get_json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 2)
    assert client.get("/api/v1/customers/C001", headers=headers).get_json()["name"] == "Renamed"


def test_a_dry_run_counts_and_saves_nothing(client):
    response = client.post(
        "/api/v1/customers?dry_run=true", headers=_token(), json={"rows": _customers(4)}
    )
    assert response.get_json() == {
        "rows": 4, "created": 4, "updated": 0, "unchanged": 0, "dry_run": True,
    }  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_every_bad_row_and_field_is_listed_and_nothing_is_saved(client, create_customer):
    create_customer(external_id="K1")
    headers = _token()
    rows = [
        {"external_id": "OK1", "name": "Fine"},
        {"external_id": "", "name": "No number", "potential": "huge"},
        "not an object",
        {"external_id": "OK2", "name": True, "language": "fi", "colour": "red"},
        {"external_id": "OK1", "name": "Twice"},
    ]
    body = _problem(client.post("/api/v1/customers", headers=headers, json={"rows": rows}), 422)
    found = {(error.get("row"), error["field"]) for error in body["errors"]}
    assert found == {
        (1, "external_id"), (1, "potential"), (2, None), (3, "name"), (3, "language"),
        (3, "colour"), (4, "external_id"),
    }  # fmt: skip
    duplicate = next(e for e in body["errors"] if e.get("row") == 4)
    assert "row 0" in duplicate["message"]
    assert "nothing was saved" in body["detail"]
    assert set(db.session.scalars(select(Customer.external_id))) == {"K1"}


def test_transaction_rows_use_the_file_checks(client, create_customer):
    create_customer(external_id="K1")
    headers = _token()
    good = {"customer_external_id": "K1", "date": "2026-11-30", "amount": 1250.5, "currency": "EUR"}
    bad = [
        good,
        {**good, "customer_external_id": "NOPE"},
        {**good, "date": "31.02.2026"},
        {**good, "amount": "12,34,5"},
        {**good, "currency": "XXX"},
        {**good, "kind": "refund"},
    ]
    body = _problem(client.post("/api/v1/transactions", headers=headers, json={"rows": bad}), 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (1, "customer_external_id"), (2, "date"), (3, "amount"), (4, "currency"), (5, "kind"),
    ]  # fmt: skip
    negative = client.post("/api/v1/transactions", headers=headers,
                           json={"rows": [{**good, "amount": -5, "kind": "order"}]})  # fmt: skip
    assert "cannot be negative" in _problem(negative, 422)["errors"][0]["message"]
    response = client.post("/api/v1/transactions", headers=headers, json={"rows": [good] * 2})
    assert response.get_json()["created"] == 2  # two identical orders on a day are two rows
    again = client.post("/api/v1/transactions", headers=headers, json={"rows": [good] * 2})
    assert again.get_json()["created"] == 0 and again.get_json()["unchanged"] == 2
    listed = client.get("/api/v1/transactions?customer=K1", headers=headers).get_json()["data"]
    assert [row["amount"] for row in listed] == ["1250.50", "1250.50"]


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b'{"rows": [', "application/json", 400),
        (b'{"rows": []}', "text/csv", 415),
        (b"[]", "application/json", 422),
        (b'{"rows": "C1;Acme"}', "application/json", 422),
        (b'{"lines": []}', "application/json", 422),
    ],
)
def test_a_body_that_is_not_rows_is_refused(client, body, content_type, status):
    response = client.post(
        "/api/v1/customers", headers=_token(), data=body, content_type=content_type
    )
    _problem(response, status)


def test_more_than_10000_rows_is_refused_before_any_work(client):
    rows = [{"external_id": str(n), "name": "x"} for n in range(10_001)]
    body = _problem(client.post("/api/v1/customers", headers=_token(), json={"rows": rows}), 413)
    assert "10,000" in body["detail"]


# --- idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_and_changes_nothing(client):
    headers = {**_token(), "Idempotency-Key": "nightly-2026-12-01"}
    first = client.post("/api/v1/customers", headers=headers, json={"rows": _customers(2)})
    assert first.get_json()["created"] == 2
    db.session.execute(Customer.__table__.delete().where(Customer.external_id == "C000"))
    db.session.commit()
    retry = client.post("/api/v1/customers", headers=headers, json={"rows": _customers(2)})
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    # Replayed, not re-run: the customer deleted in between was not created again.
    assert set(db.session.scalars(select(Customer.external_id))) == {"C001"}


def test_the_same_key_with_another_request_is_refused(client):
    headers = {**_token(), "Idempotency-Key": "k-1"}
    client.post("/api/v1/customers", headers=headers, json={"rows": _customers(1)})
    body = _problem(
        client.post("/api/v1/customers", headers=headers, json={"rows": _customers(2)}), 422
    )
    assert "different request" in body["detail"]
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_failed_write_keeps_no_key_so_a_fixed_retry_runs(client):
    headers = {**_token(), "Idempotency-Key": "k-2"}
    bad = client.post("/api/v1/customers", headers=headers, json={"rows": [{"name": "x"}]})
    _problem(bad, 422)
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    fixed = client.post("/api/v1/customers", headers=headers, json={"rows": _customers(1)})
    assert fixed.status_code == 200 and fixed.get_json()["created"] == 1


def test_keys_belong_to_their_token(client):
    first = {**_token(name="a"), "Idempotency-Key": "same"}
    second = {**_token(name="b"), "Idempotency-Key": "same"}
    client.post("/api/v1/customers", headers=first, json={"rows": _customers(1)})
    other = client.post("/api/v1/customers", headers=second, json={"rows": _customers(3)})
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert other.get_json()["created"] == 2


@pytest.mark.parametrize("key", ["", "ä-non-ascii", "x" * 256, "tab\there"])
def test_a_malformed_key_is_400(client, key):
    headers = {**_token(), "Idempotency-Key": key}
    _problem(client.post("/api/v1/customers", headers=headers, json={"rows": []}), 400)


def test_an_expired_key_can_be_used_again(client):
    from datetime import timedelta

    from feedback.api.idempotency import KEEP, forget_old_keys
    from feedback.dbtypes import utcnow

    headers = {**_token(), "Idempotency-Key": "old"}
    client.post("/api/v1/customers", headers=headers, json={"rows": _customers(1)})
    db.session.execute(
        IdempotencyKey.__table__.update().values(created_at=utcnow() - KEEP - timedelta(minutes=1))
    )
    db.session.commit()
    again = client.post("/api/v1/customers", headers=headers, json={"rows": _customers(2)})
    assert again.status_code == 200 and again.get_json()["created"] == 1
    assert forget_old_keys(utcnow() + KEEP + timedelta(minutes=1)) == 1


# --- pagination -------------------------------------------------------------------------------


def _all_pages(client, url, headers, cursor=None) -> list[dict]:
    seen = []
    for _ in range(100):
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        seen += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            return seen
        assert 'rel="next"' in response.headers["Link"]
    raise AssertionError("the pages never ended")


def test_paging_while_rows_are_added_and_changed_misses_nothing(client):
    headers = _token()
    client.post("/api/v1/customers", headers=headers, json={"rows": _customers(7)})
    first = client.get("/api/v1/customers?limit=3", headers=headers).get_json()
    assert [row["external_id"] for row in first["data"]] == ["C000", "C001", "C002"]
    # Between pages: two customers arrive and one already seen is renamed.
    client.post("/api/v1/customers", headers=headers, json={"rows": [
        {"external_id": "N1", "name": "New"}, {"external_id": "N2", "name": "Newer"},
        {"external_id": "C001", "name": "Renamed"},
    ]})  # fmt: skip
    rest = _all_pages(client, "/api/v1/customers?limit=3", headers, first["next_cursor"])
    ids = [row["external_id"] for row in first["data"] + rest]
    assert set(ids) == {f"C{n:03d}" for n in range(7)} | {"N1", "N2"}
    assert ids.count("C001") == 2  # changed after it was read: seen again, with its new name
    assert len(ids) == 10


def test_updated_since_returns_only_later_changes(client):
    headers = _token()
    from datetime import timedelta

    from feedback.dbtypes import utcnow

    client.post("/api/v1/customers", headers=headers, json={"rows": _customers(3)})
    db.session.execute(Customer.__table__.update().values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    since = (utcnow() - timedelta(minutes=1)).isoformat()
    client.post("/api/v1/customers", headers=headers,
                json={"rows": [{"external_id": "C002", "name": "Changed"}]})  # fmt: skip
    from urllib.parse import quote

    changed = _all_pages(client, f"/api/v1/customers?updated_since={quote(since)}", headers)
    assert [row["external_id"] for row in changed] == ["C002"]


def test_a_cursor_from_another_list_or_forged_is_400(client):
    headers = _token()
    client.post("/api/v1/customers", headers=headers, json={"rows": _customers(3)})
    cursor = client.get("/api/v1/customers?limit=1", headers=headers).get_json()["next_cursor"]
    _problem(client.get(f"/api/v1/contacts?cursor={cursor}", headers=headers), 400)
    _problem(client.get(f"/api/v1/customers?cursor={cursor[:-2]}xx", headers=headers), 400)


# --- the document ----------------------------------------------------------------------------


def test_the_openapi_document_and_its_reference_page_are_served(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "/api/v1/transactions" in spec["paths"]
    assert {tag["name"] for tag in spec["tags"]} >= {"Customers", "Contacts", "Transactions"}
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert client.get(f"/api/docs/assets/{asset}").status_code == 200


def test_an_unknown_query_parameter_is_refused_not_ignored(client):
    # A misspelt updated_since must not quietly turn a nightly sync into a full one.
    body = _problem(client.get("/api/v1/customers?updatedSince=2026-01-01", headers=_token()), 422)
    assert body["errors"][0]["field"] == "updatedSince"


def test_a_body_with_more_than_rows_is_refused(client):
    response = client.post(
        "/api/v1/customers", headers=_token(), json={"rows": [], "recompute": True}
    )
    assert _problem(response, 422)["errors"] == [{"field": "recompute", "message": "unknown field"}]


def test_a_nul_character_is_a_row_problem_not_a_server_error(client):
    rows = [{"external_id": "C1", "name": "Acme\u0000"}, {"external_id": "C2", "name": "Fine"}]
    body = _problem(client.post("/api/v1/customers", headers=_token(), json={"rows": rows}), 422)
    assert body["errors"] == [{"row": 0, "field": "name", "message": "holds a NUL character"}]


@pytest.mark.parametrize("path", ["contacts", "transactions"])
def test_an_id_beyond_any_row_is_404_not_a_database_error(client, path):
    """Ids are 32-bit: PostgreSQL refuses to compare with a larger one (found by
    Schemathesis)."""
    _problem(client.get(f"/api/v1/{path}/486093595604473344", headers=_token()), 404)
