"""Small Dash building blocks the views share. Dash escapes every string it renders, so
customer text (names, comments) is shown as text, never as markup."""

from __future__ import annotations

from dash import dcc, html
from dash.development.base_component import Component

from dashboards import figures as F


def fmt(value, places: int = 1) -> str:
    """A figure for people: one decimal, a true minus sign, '—' for nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}".replace("-", "−")
    return f"{value:,.{places}f}".replace("-", "−")


def stat_card(title: str, value: str, detail: str = "", *, muted: bool = False):
    return html.Div(
        [html.Div(title, className="dash-card-title"),
         html.Div(value, className="dash-card-value"),
         html.Div(detail, className="dash-card-detail")],
        className="dash-card" + (" muted" if muted else ""),
    )  # fmt: skip


def graph(graph_id: str, figure: dict, **extra):
    """A chart. A responsive graph takes its container's height: give it the figure's own."""
    return dcc.Graph(id=graph_id, config=F.GRAPH_CONFIG, figure=figure,
                     style={"height": f"{figure['layout']['height']}px"}, **extra)  # fmt: skip


def empty_note(text: str):
    return html.P(text, className="empty")


def html_json(tag: str, children, class_name: str | None = None) -> dict:
    """An html component as the JSON Dash sends for it. Tables have hundreds of cells (and
    the drivers' examples a hundred elements), and Dash's component classes cost ~50 µs
    each to build and encode: for plain elements we write that JSON directly (the renderer
    cannot tell the difference; text stays text)."""
    props = {"children": children}
    if class_name:
        props["className"] = class_name
    return {"type": tag, "namespace": "dash_html_components", "props": props}


def number_table(columns: list[str], rows: list[list], *, numeric_from: int = 1):
    """A plain table: headers from column names ('nps_ci_low' -> 'nps ci low')."""

    def cell(value):
        if isinstance(value, bool) or value is None:
            return "—" if value is None else ("yes" if value else "no")
        if isinstance(value, float | int):
            return fmt(value)
        return value if isinstance(value, Component) else str(value)  # links stay links

    headers = [html_json("Th", c.replace("_", " ")) for c in columns]
    head = html_json("Thead", html_json("Tr", headers))
    body = html_json("Tbody", [
        html_json("Tr", [html_json("Td", cell(v), "num" if i >= numeric_from else None)
                     for i, v in enumerate(row)])
        for row in rows
    ])  # fmt: skip
    return html.Div(html.Table([head, body], className="table table-compact"),
                    className="table-scroll")  # fmt: skip
