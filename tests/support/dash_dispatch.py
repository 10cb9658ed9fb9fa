"""Dashboard callbacks over HTTP, as the browser sends them: Dash's JSON, with the CSRF
token from the `_csrf_token` cookie in the X-CSRFToken header."""

from __future__ import annotations

import json

RENDER = {
    "output": "..view-body.children...freshness.children...view-question.children..",
    "outputs": [{"id": "view-body", "property": "children"},
                {"id": "freshness", "property": "children"},
                {"id": "view-question", "property": "children"}],
    "changedPropIds": ["query.data"],
    "state": [],
}  # fmt: skip


def render_payload(query: str) -> dict:
    """The render callback's request for the filters in `query` (a URL's search part)."""
    return {**RENDER, "inputs": [{"id": "query", "property": "data", "value": query}]}


def dispatch(client, payload, *, token=True, headers=None):
    """POST `payload` to Dash's dispatch route (with the CSRF header unless token=False)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        cookie = client.get_cookie("_csrf_token", path="/dashboard/")
        assert cookie is not None, "the dashboard did not hand over its CSRF cookie"
        sent["X-CSRFToken"] = cookie.value
    return client.post("/dashboard/_dash-update-component", data=json.dumps(payload),
                       headers=sent)  # fmt: skip
