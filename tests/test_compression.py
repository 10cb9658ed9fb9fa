"""Responses a client downloads in bulk are compressed when it asks: the dashboard's
scripts (6 MB on a first visit), its JSON and the API's. HTML pages never are: a page
holding a CSRF token next to echoed input, compressed, leaks the token to BREACH."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.support.dash_dispatch import dispatch, render_payload

BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}
PLOTLY = "/dashboard/_dash-component-suites/plotly/package_data/plotly.min.js"


def test_the_dashboard_scripts_and_json_are_compressed_and_unchanged(client, login_as):
    login_as("manager")
    page = client.get("/dashboard/", headers=BROWSER)
    assert page.status_code == 200 and "Content-Encoding" not in page.headers

    plain = client.get(PLOTLY).data
    packed = client.get(PLOTLY, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain
    assert len(packed.data) < len(plain) / 3

    chosen = client.get(PLOTLY, headers=BROWSER)
    assert chosen.headers["Content-Encoding"] == "zstd"  # what Chromium asks for first

    payload = render_payload("?view=nps")
    plain = dispatch(client, payload)
    packed = dispatch(client, payload, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()


@pytest.mark.parametrize("path", ["/login", "/dashboard/", "/customers"])
def test_html_pages_are_never_compressed(client, login_as, path):
    if path != "/login":
        login_as("manager")
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Content-Encoding" not in response.headers


def test_api_json_is_compressed_for_a_client_that_asks(client, create_user, create_customer):
    from feedback.extensions import db
    from feedback.integrations import tokens

    admin = create_user(role="admin", email="compress-admin@example.com")
    for number in range(40):
        create_customer(external_id=f"Z{number}", name=f"Kunde {number} ApS")
    _, secret = tokens.create_token("compress", "admin", acts_as=admin.email)
    db.session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    plain = client.get("/api/v1/customers?limit=100", headers=auth)
    packed = client.get("/api/v1/customers?limit=100", headers={**auth, "Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers  # curl without --compressed gets JSON
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
