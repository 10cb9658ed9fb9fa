"""The management dashboard: a Dash app mounted at /dashboard/ inside the Flask app (one
process, one login). Layout, callbacks, views and queries live in their own modules; the
queries know nothing of Dash (see dashboards/queries)."""

from __future__ import annotations

PREFIX = "/dashboard/"


def init_dashboard(app):
    """Mount the dashboard on `app`: the Dash app, its access rules and its callbacks."""
    from pathlib import Path

    from dashboards.access import install_access
    from dashboards.app import StaffDash
    from dashboards.callbacks import register_callbacks
    from dashboards.layout import serve_layout

    dash_app = StaffDash(
        __name__,
        server=app,
        url_base_pathname=PREFIX,
        assets_folder=str(Path(__file__).parent / "assets"),
        title="Dashboard",
        update_title=None,
        serve_locally=True,  # no CDN: the page works offline and under a strict network
        suppress_callback_exceptions=True,  # views are rendered into the page on demand
    )
    dash_app.layout = serve_layout
    register_callbacks(dash_app)
    install_access(app, PREFIX, dash_app)
    app.extensions["dashboard"] = dash_app
    return dash_app
