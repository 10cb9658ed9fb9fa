"""Dash's first-request set-up under threaded workers (plotly/dash#3971): no request may go
on before the set-up has registered the page's scripts."""

from __future__ import annotations

import threading
import time

import pytest

from dashboards.app import StaffDash


def _slowed(app, monkeypatch):
    """The app's Dash with its set-up slowed between its 'done' mark and the registering
    of the scripts, so the race is certain rather than likely."""
    dash_app = app.extensions["dashboard"]
    walk = dash_app._walk_assets_directory

    def slow_walk():
        time.sleep(0.3)
        walk()

    monkeypatch.setattr(dash_app, "_walk_assets_directory", slow_walk)
    return dash_app


def test_no_request_goes_on_before_the_scripts_are_registered(make_app, monkeypatch):
    app = make_app()
    # the hook Dash runs before every request is the locked set-up (it overrides a private
    # method: a Dash release that renames it would leave the race open, and fail here)
    hooks = app.before_request_funcs[None]
    assert any(getattr(h, "__func__", None) is StaffDash._setup_server for h in hooks)
    dash_app = _slowed(app, monkeypatch)
    seen, errors = [], []

    def first_request():
        try:
            with app.test_request_context("/dashboard/"):
                dash_app._setup_server()
                seen.append("dash" in dash_app.registered_paths)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # the first is inside the set-up when the others arrive
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    assert seen == [True] * 4


def test_a_failed_set_up_is_tried_again(make_app, monkeypatch):
    app = make_app()
    dash_app = app.extensions["dashboard"]
    calls = []
    walk = dash_app._walk_assets_directory

    def failing_once():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("assets folder unreadable")
        walk()

    monkeypatch.setattr(dash_app, "_walk_assets_directory", failing_once)
    with app.test_request_context("/dashboard/"):
        with pytest.raises(OSError):
            dash_app._setup_server()
        dash_app._setup_server()
        assert "dash" in dash_app.registered_paths and len(calls) == 2
