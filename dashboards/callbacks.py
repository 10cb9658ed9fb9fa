"""The callbacks: keep the filters and the URL in step, offer the waves of the chosen
survey, render the active view, and download it as CSV. They call the views; the views
call the queries."""

from __future__ import annotations

import csv
import io

from dash import Input, Output, State, ctx, dcc, html, no_update
from flask import current_app

from dashboards.context import local_today, make_context
from dashboards.filters import offered, parse, to_query
from dashboards.layout import CONTROLS
from dashboards.queries import options
from dashboards.queries.freshness import freshness
from dashboards.views import all_views
from dashboards.widgets import empty_note
from feedback.list_filters import NO_OWNER

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The dropdowns whose choices come from the database: sent by the sync callback with the
# values a link sets (the layout reads nothing), the waves again when a survey is chosen
CHOICES = ("survey", "owner", "team", "wave")


def _control_values(parsed, view: str) -> list:
    f = parsed.filters
    by_key = {
        "view": view, "from": f.start.isoformat(), "to": f.end.isoformat(), "grain": f.grain,
        "survey": f.survey, "wave": None if f.wave is None else str(f.wave),
        "class": list(f.classes), "programme": f.programme, "language": f.language,
        "owner": None if f.owner is None else str(f.owner),
        "team": None if f.team is None else str(f.team),
    }  # fmt: skip
    return [by_key[key] for key in CONTROLS]


def _from_controls(values) -> dict:
    raw = dict(zip(CONTROLS, values, strict=True))
    raw["class"] = ",".join(raw["class"] or [])
    for key in ("from", "to"):
        raw[key] = (raw[key] or "")[:10]  # the date picker may add a time
    return raw


def _offered(filters, conn) -> tuple:
    """A link's filters kept to what the controls offer, what was dropped, and the choices
    of the survey, owner, team and wave dropdowns (sent with their values: a dropdown
    drops a value it has no option for)."""
    pairs = {
        "survey": options.survey_choices(conn),
        "owner": [(NO_OWNER, "No owner"), *options.owner_choices(conn)],
        "team": options.team_choices(conn),
    }
    filters, dropped = offered(filters, {k: {v for v, _ in p} for k, p in pairs.items()})
    pairs["wave"] = options.wave_choices(conn, filters.survey)
    filters, dropped_wave = offered(filters, {"wave": {value for value, _ in pairs["wave"]}})
    return filters, dropped + dropped_wave, [_options(pairs[k]) for k in CHOICES]


def _options(pairs) -> list[dict]:
    return [{"label": label, "value": value} for value, label in pairs]


def _ignored_note(ignored: list[str]):
    if not ignored:
        return None
    return html.Div(f"Ignored from the link: {', '.join(ignored)}.",
                    className="flash flash-warning")  # fmt: skip


def _freshness_text(c) -> str:
    fresh = freshness(c.conn)

    def when(moment):
        return f"{moment.astimezone(c.tz):%-d %b %H:%M}" if moment else "never (run the jobs)"

    parts = [
        f"Answers counted {when(fresh.answers_built_at)}",
        f"revenue and orders {when(fresh.customers_built_at)}",
        f"classes as of {fresh.segments_as_of:%-d %b %Y}" if fresh.segments_as_of
        else "no segment run yet",
    ]  # fmt: skip
    if fresh.churn_computed_at:
        parts.append(f"churn risk of {fresh.churn_computed_at.astimezone(c.tz):%-d %b %Y}")
    return " · ".join(parts) + f" ({c.tz.key})."


def csv_text(columns: list[str], rows: list[list]) -> str:
    """CSV for a spreadsheet: cells that would start a formula are quoted with a '."""

    def safe(value):
        if value is None:
            return ""
        text = str(value)
        return "'" + text if text.startswith(FORMULA_START) and not _is_number(text) else text

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([[safe(v) for v in row] for row in rows])
    return out.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text.replace("−", "-").replace(",", ""))
    except ValueError:
        return False
    return True


def register_callbacks(dash_app) -> None:
    from dashboards.views import behaviour

    behaviour.register(dash_app)  # the scatter's click through to the customer page
    views = all_views()
    keys = tuple(views)
    controls = [(cid, prop) for cid, prop in CONTROLS.values()]

    @dash_app.callback(
        *[Output(cid, prop) for cid, prop in controls],
        *[Output(CONTROLS[key][0], "options") for key in CHOICES],
        Output("url", "search"), Output("query", "data"), Output("ignored", "children"),
        Input("url", "search"), *[Input(cid, prop) for cid, prop in controls],
    )  # fmt: skip
    def sync_filters_and_url(search, *values):
        from feedback.extensions import db

        today = local_today()
        if ctx.triggered_id in (None, "url"):
            parsed = parse(search or "", today, keys)
            parsed.filters, dropped, choices = _offered(parsed.filters, db.session.connection())
            parsed.ignored += dropped
            view = parsed.view or keys[0]
            query = to_query(parsed.filters, view, today)
            return (*_control_values(parsed, view), *choices, no_update, query,
                    _ignored_note(parsed.ignored))  # fmt: skip
        raw = _from_controls(values)
        new_survey = ctx.triggered_id == "f-survey"
        if new_survey:
            raw["wave"] = None  # a wave belongs to one survey
        parsed = parse(raw, today, keys)
        query = to_query(parsed.filters, parsed.view or keys[0], today)
        outputs, choices = [no_update] * len(controls), [no_update] * len(CHOICES)
        if new_survey:  # its waves, none chosen yet
            outputs[list(CONTROLS).index("wave")] = None
            pairs = options.wave_choices(db.session.connection(), parsed.filters.survey)
            choices[CHOICES.index("wave")] = _options(pairs)
        return (*outputs, *choices, query, query, _ignored_note(parsed.ignored))

    @dash_app.callback(
        Output("view-body", "children"), Output("freshness", "children"),
        Output("view-question", "children"), Input("query", "data"),
    )  # fmt: skip
    def render_view(query):
        if query is None:
            return no_update, no_update, no_update
        parsed = parse(query, local_today(), keys)
        view = views[parsed.view or keys[0]]
        c = make_context(parsed.filters)
        try:
            body = view.render(c)
        except Exception:  # one broken view must not take the page down
            current_app.logger.exception("dashboard view %s failed", view.key)
            body = empty_note("This view could not be computed. The error has been logged.")
        return body, _freshness_text(c), view.question

    @dash_app.callback(
        Output("download", "data"), Input("download-button", "n_clicks"),
        State("query", "data"), prevent_initial_call=True,
    )  # fmt: skip
    def download_csv(_clicks, query):
        parsed = parse(query or "", local_today(), keys)
        view = views[parsed.view or keys[0]]
        f = parsed.filters
        columns, rows = view.table(make_context(f))
        return dcc.send_string(csv_text(columns, rows), f"{view.key}-{f.start}-{f.end}.csv")
