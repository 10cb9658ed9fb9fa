"""Plotly figures as plain dicts (Dash sends them as they are; building them through
plotly's validated objects costs more than the queries behind them). Colours are the
Okabe–Ito palette, readable by colour-blind people; the ABC classes keep the hues of the
staff pages' badges (A green, B blue, C orange, D grey)."""

from __future__ import annotations

# Okabe–Ito
BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
)  # fmt: skip
GREY = "#8C8C8C"
FAINT = "#BDBDBD"
INK = "#1b2230"
GRID = "#e3e7ed"

CLASS_COLOURS = {"A": GREEN, "B": BLUE, "C": ORANGE, "D": GREY}
BAND_COLOURS = {
    "promoter": GREEN,
    "passive": SKY,
    "detractor": VERMILLION,
    "non-responder": BLACK,
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def layout(title: str = "", *, yaxis: dict | None = None, xaxis: dict | None = None,
           height: int = 360, **extra) -> dict:  # fmt: skip
    """The house layout: white, light grid, legend on top, room for the n under the axis."""
    base = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 48 if title else 16, "b": 64},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": FONT, "color": INK, "size": 12},
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 1,
            "xanchor": "right",
        },  # fmt: skip
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"gridcolor": GRID, "zeroline": False, **(xaxis or {})},
        "yaxis": {"gridcolor": GRID, "zerolinecolor": "#9aa3b0", **(yaxis or {})},
    }
    base.update(extra)
    return base


def figure(data: list[dict], layout_: dict) -> dict:
    return {"data": data, "layout": layout_}


GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}  # fmt: skip


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_period_ticks(labels: list[str], ns: list[int]) -> list[str]:
    """Tick texts for a half-width chart of periods: "2026-03" becomes "Mar", with the year
    under the first tick and under every January; quarters stay "2026-Q1". The n goes
    underneath, left out for empty periods, so twelve months fit without turning sideways."""
    out = []
    for i, (label, n) in enumerate(zip(labels, ns, strict=True)):
        year, _, part = label.partition("-")
        text = label
        if part.isdigit():
            text = MONTHS[int(part) - 1] + (f"<br>{year}" if i == 0 or part == "01" else "")
        if n:
            text += f"<br><span style='color:#556070'>n={n:,}</span>"
        out.append(text)
    return out
