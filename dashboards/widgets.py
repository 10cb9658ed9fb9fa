"""Small Dash building blocks the views share. Dash escapes every string it renders, so
customer text (names, comments) is shown as text, never as markup."""

from __future__ import annotations

from dash import html


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


def empty_note(text: str):
    return html.P(text, className="empty")


def number_table(columns: list[str], rows: list[list], *, numeric_from: int = 1):
    """A plain table: headers from column names ('nps_ci_low' -> 'nps ci low')."""

    def cell(value):
        if isinstance(value, bool) or value is None:
            return "—" if value is None else ("yes" if value else "no")
        return fmt(value) if isinstance(value, float | int) else value

    head = html.Thead(html.Tr([html.Th(c.replace("_", " ")) for c in columns]))
    body = html.Tbody([
        html.Tr([html.Td(cell(v), className="num" if i >= numeric_from else None)
                 for i, v in enumerate(row)])
        for row in rows
    ])  # fmt: skip
    return html.Div(html.Table([head, body], className="table table-compact"),
                    className="table-scroll")  # fmt: skip
