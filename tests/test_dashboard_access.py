"""Who may open the dashboard, on every route Dash adds, and its callbacks over HTTP as the
browser sends them (CSRF token from the cookie in the X-CSRFToken header)."""

from __future__ import annotations

import json

import pytest

from dashboards.callbacks import csv_text
from tests.support.dash_dispatch import dispatch, render_payload

DASH_ROUTES = ["/dashboard/_dash-layout", "/dashboard/_dash-dependencies",
               "/dashboard/_dash-component-suites/dash/dcc/async-graph.js"]  # fmt: skip


def test_anonymous_visitors_go_to_the_login_page_and_come_back(client):
    response = client.get("/dashboard/?view=nps&class=A")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "dashboard" in response.headers["Location"]
    assert client.get("/dashboard").status_code in (302, 308)


@pytest.mark.parametrize("path", DASH_ROUTES)
def test_anonymous_requests_to_dash_routes_get_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"].startswith("Your session has ended")


def test_anonymous_callback_post_is_refused(client):
    response = client.post("/dashboard/_dash-update-component", json=render_payload("?view=nps"))
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("path", ["/dashboard/", *DASH_ROUTES])
def test_agents_get_403(client, login_as, path):
    login_as("agent")
    assert client.get(path).status_code == 403


def test_agents_see_no_dashboard_link(client, login_as):
    login_as("agent")
    assert "/dashboard/" not in client.get("/cases").get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_open_the_page_in_the_staff_frame(client, login_as, role):
    login_as(role)
    page = client.get("/dashboard/?view=nps")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="react-entry-point"' in html and 'id="_dash-config"' in html
    assert 'class="topbar"' in html and 'href="/dashboard/"' in html  # nav, marked active
    assert "Sign out" in html
    cookie = client.get_cookie("_csrf_token", path="/dashboard/")
    assert cookie is not None and not cookie.http_only
    assert client.get("/dashboard/_dash-layout").status_code == 200
    assert "/dashboard/" in client.get("/cases").get_data(as_text=True)


def test_the_callback_post_needs_the_csrf_token(client, login_as):
    login_as("manager")
    client.get("/dashboard/")
    refused = dispatch(client, render_payload("?view=nps"), token=False)
    assert refused.status_code == 400
    accepted = dispatch(client, render_payload("?view=nps"))
    assert accepted.status_code == 200, accepted.get_data(as_text=True)[:300]
    body = accepted.get_json()["response"]
    assert "Answers counted never (run the jobs)" in body["freshness"]["children"]
    assert "getting better or worse" in body["view-question"]["children"]
    assert "No NPS answers match these filters." in json.dumps(body["view-body"])


def test_a_bad_link_is_answered_not_crashed(client, login_as):
    login_as("manager")
    client.get("/dashboard/")
    response = dispatch(client, render_payload("?view=<script>&from=2025-99-01&class=Q"))
    assert response.status_code == 200
    sync = {
        "output": "url.search", "outputs": {"id": "url", "property": "search"},
        "inputs": [{"id": "url", "property": "search", "value": "?from=nonsense&class=Q"}],
        "changedPropIds": ["url.search"], "state": [],
    }  # fmt: skip
    # the sync callback has many outputs; ask Dash for them the way the renderer does
    dash_app = client.application.extensions["dashboard"]
    key = next(k for k in dash_app.callback_map if k.startswith("..f-view.value"))
    spec = dash_app.callback_map[key]
    sync["output"] = key
    sync["outputs"] = [{"id": o.split(".")[0], "property": o.split(".")[1]}
                       for o in key.strip(".").split("...")]  # fmt: skip
    sync["inputs"] = [{"id": i["id"], "property": i["property"],
                       "value": "?from=nonsense&class=Q" if i["id"] == "url" else None}
                      for i in spec["inputs"]]  # fmt: skip
    answered = dispatch(client, sync)
    assert answered.status_code == 200, answered.get_data(as_text=True)[:300]
    ignored = json.dumps(answered.get_json()["response"]["ignored"])
    assert "from date" in ignored and "class" in ignored


def _sync(client, search, *, survey_changed_to=None):
    """The sync callback as the renderer calls it: on a link, or on a new survey."""
    dash_app = client.application.extensions["dashboard"]
    key = next(k for k in dash_app.callback_map if k.startswith("..f-view.value"))
    inputs = [{"id": i["id"], "property": i["property"], "value": None}
              for i in dash_app.callback_map[key]["inputs"]]  # fmt: skip
    inputs[0]["value"] = search
    changed = "url.search"
    if survey_changed_to is not None:
        next(i for i in inputs if i["id"] == "f-survey")["value"] = survey_changed_to
        changed = "f-survey.value"
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in key.strip(".").split("...")]  # fmt: skip
    response = dispatch(client, {"output": key, "outputs": outputs, "inputs": inputs,
                                  "changedPropIds": [changed], "state": []})  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]


def test_a_link_keeps_its_wave_and_names_what_the_controls_do_not_offer(
    client, login_as, create_user, create_customer
):
    from datetime import UTC, datetime

    from tests.support.dashboard_world import one_sent_wave

    login_as("manager")
    owner = create_user(name="Olga", team="Key accounts")
    create_customer(owner=owner)
    survey, wave = one_sent_wave("Quarterly NPS", datetime(2025, 3, 4, 9, tzinfo=UTC))
    client.get("/dashboard/")

    link = f"?view=funnel&survey={survey.id}&wave={wave.id}&owner={owner.id}"
    out = _sync(client, link)
    # the wave's choices come with it, so the dropdown keeps the wave (a dropdown drops a
    # value it has no option for)
    assert out["f-wave"] == {"options": [{"label": "Wave of 4 Mar 2025", "value": str(wave.id)}],
                             "value": str(wave.id)}  # fmt: skip
    assert f"wave={wave.id}" in out["query"]["data"] and f"owner={owner.id}" in out["query"]["data"]
    assert out["ignored"]["children"] is None
    # so do the survey's, owner's and team's: the layout reads none of them
    assert {"label": "Quarterly NPS", "value": str(survey.id)} in out["f-survey"]["options"]
    assert out["f-survey"]["value"] == str(survey.id)
    assert out["f-owner"]["options"][0] == {"label": "No owner", "value": "none"}
    assert {"label": "Olga", "value": str(owner.id)} in out["f-owner"]["options"]
    assert {"label": "Key accounts", "value": str(owner.team_id)} in out["f-team"]["options"]
    layout = client.get("/dashboard/_dash-layout").get_data(as_text=True)
    assert "Quarterly NPS" not in layout and "Olga" not in layout

    stale = _sync(client, f"?view=funnel&survey={survey.id}&wave=999999&owner=999999&team=77")
    query = stale["query"]["data"]
    assert f"survey={survey.id}" in query and "wave" not in query and "owner" not in query
    assert "team" not in query
    note = json.dumps(stale["ignored"], ensure_ascii=False)
    assert "wave “999999”" in note and "owner “999999”" in note and "team “77”" in note

    other = _sync(client, "", survey_changed_to="nps")
    assert other["f-wave"]["value"] is None
    assert other["f-wave"]["options"][0]["value"] == str(wave.id)
    assert other["f-wave"]["options"][0]["label"].startswith("Quarterly NPS: wave of")


def test_csv_text_defuses_spreadsheet_formulas():
    text = csv_text(["name", "value"], [["=HYPERLINK(\"x\")", -5], ["+1 Kunde", 3.5],
                                        ["@risk", None]])  # fmt: skip
    lines = text.splitlines()
    assert lines[1].startswith("\"'=HYPERLINK") and lines[1].endswith(",-5")
    assert lines[2] == "'+1 Kunde,3.5" and lines[3] == "'@risk,"


@pytest.mark.parametrize(
    "body, message",
    [
        ("not json", "not a dashboard update"),
        ("{}", "not a dashboard update"),
        (json.dumps({"output": "nope.children", "inputs": []}), "out of date"),
        # the scatter's click runs in the browser: there is nothing here to run
        (json.dumps({"output": "behaviour-go.href", "inputs": []}), "out of date"),
    ],
)
def test_a_malformed_callback_post_is_a_clear_400(client, login_as, body, message):
    login_as("manager")
    client.get("/dashboard/")
    token = client.get_cookie("_csrf_token", path="/dashboard/").value
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    response = client.post("/dashboard/_dash-update-component", data=body, headers=headers)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
