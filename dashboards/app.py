"""Dash with the staff pages' frame: the page is rendered through base.html, so the
dashboard has the same navigation, account menu and styles as every other staff page."""

from __future__ import annotations

import threading

from dash import Dash
from flask import render_template
from markupsafe import Markup


class StaffDash(Dash):
    _setup_done = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_lock = threading.Lock()

    def interpolate_index(self, **parts):
        # Dash hands over ready HTML snippets (its scripts, config and entry point).
        return render_template("dashboard/index.html", **{k: Markup(v) for k, v in parts.items()})

    def _setup_server(self):
        """Dash's set-up on a process's first request, finished before any request goes on.
        Dash marks it done before doing it (plotly/dash#3971): with threaded workers, a
        request arriving meanwhile checked the page's scripts against an empty list and got
        a 500, so the first page after a restart could load without its JavaScript. A
        set-up that fails is tried again by the next request instead of never."""
        if self._setup_done:
            return
        with self._setup_lock:
            if self._setup_done:
                return
            try:
                super()._setup_server()
            except Exception:
                self._got_first_request["setup_server"] = False
                raise
            self._setup_done = True
