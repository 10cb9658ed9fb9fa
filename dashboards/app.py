"""Dash with the staff pages' frame: the page is rendered through base.html, so the
dashboard has the same navigation, account menu and styles as every other staff page."""

from __future__ import annotations

from dash import Dash
from flask import render_template
from markupsafe import Markup


class StaffDash(Dash):
    def interpolate_index(self, **parts):
        # Dash hands over ready HTML snippets (its scripts, config and entry point).
        return render_template("dashboard/index.html", **{k: Markup(v) for k, v in parts.items()})
