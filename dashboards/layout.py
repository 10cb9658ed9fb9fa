"""The page: the filter bar (shared by every view, mirrored in the URL), the view tabs,
the download button and the body the active view is rendered into."""

from __future__ import annotations

from dash import dcc, html

from dashboards.context import local_today
from dashboards.filters import LANGUAGES, default_filters
from dashboards.views import all_views
from feedback.customers.models import ABC_CLASSES

LANGUAGE_NAMES = {"en": "English", "da": "Danish", "sv": "Swedish", "nb": "Norwegian"}

# filter key in the URL -> (component id, property)
CONTROLS = {
    "view": ("f-view", "value"),
    "from": ("f-period", "start_date"),
    "to": ("f-period", "end_date"),
    "grain": ("f-grain", "value"),
    "survey": ("f-survey", "value"),
    "wave": ("f-wave", "value"),
    "class": ("f-class", "value"),
    "programme": ("f-programme", "value"),
    "language": ("f-language", "value"),
    "owner": ("f-owner", "value"),
    "team": ("f-team", "value"),
}


def _opts(pairs):
    return [{"label": label, "value": value} for value, label in pairs]


def _field(label: str, control, *, wide: bool = False):
    return html.Div([html.Label(label, htmlFor=control.id, className="dash-label"), control],
                    className="dash-field" + (" wide" if wide else ""))  # fmt: skip


def _dropdown(id_, pairs, placeholder, *, searchable: bool = False):
    return dcc.Dropdown(id=id_, options=_opts(pairs), placeholder=placeholder, clearable=True,
                        searchable=searchable, className="dash-dropdown")  # fmt: skip


def serve_layout():
    """The page, with today's default period. It reads nothing from the database: the
    survey, wave, owner and team choices come with the link's values (callbacks.py)."""
    views = all_views()
    today = local_today()
    default = default_filters(today)
    bar = html.Div([
        _field("Period", dcc.DatePickerRange(
            id="f-period", start_date=default.start, end_date=default.end,
            display_format="D MMM YYYY", first_day_of_week=1, minimum_nights=0,
            clearable=False), wide=True),
        _field("Per", dcc.RadioItems(
            id="f-grain", value="month", inline=True, className="dash-radio",
            options=[{"label": " month", "value": "month"},
                     {"label": " quarter", "value": "quarter"}])),
        _field("Survey", _dropdown("f-survey", [], "All surveys", searchable=True),
               wide=True),
        _field("Wave", _dropdown("f-wave", [], "All waves", searchable=True), wide=True),
        _field("Class", dcc.Checklist(
            id="f-class", value=[], inline=True, className="dash-checks",
            options=[{"label": f" {c}", "value": c} for c in ABC_CLASSES])),
        _field("Programme", _dropdown("f-programme", [("grow", "Grow"), ("retain", "Retain")],
                                      "Grow and Retain")),
        _field("Language", _dropdown("f-language",
                                     [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
                                     "All languages")),
        _field("Owner", _dropdown("f-owner", [], "Everyone", searchable=True)),
        _field("Team", _dropdown("f-team", [], "All teams", searchable=True)),
        html.A("Reset filters", href="/dashboard/", className="dash-reset"),
    ], className="dash-filters", role="search", **{"aria-label": "Filters"})  # fmt: skip

    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="query"),
        html.Div([
            html.Div([html.H1("Management dashboard"),
                      html.P(id="freshness", className="dash-freshness muted")]),
            html.Div([html.Button("Download CSV", id="download-button", n_clicks=0,
                                  className="btn"),
                      dcc.Download(id="download")], className="dash-actions"),
        ], className="dash-head"),
        bar,
        html.Div(id="ignored", role="status"),
        dcc.Tabs(id="f-view", value=next(iter(views)), className="dash-tabs",
                 children=[dcc.Tab(label=v.label, value=v.key, className="dash-tab",
                                   selected_className="dash-tab--selected")
                           for v in views.values()]),
        html.P(id="view-question", className="dash-question"),
        dcc.Loading(html.Div(id="view-body", className="dash-body"), type="dot",
                    delay_show=300),
    ], className="dashboard")  # fmt: skip
