"""Small charts drawn on the server as inline SVG: no JavaScript, readable without CSS.

Every piece of text goes through `escape`; the result is Markup ready for a template.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from feedback.web import money

WIDTH, HEIGHT = 1000, 280
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 26, 46  # room for the axis labels
# Colours as presentation attributes, so the chart reads even where the CSS is missing.
BAR, CREDIT, GRID, AXIS, INK, MUTED = (
    "#1f4fa3",
    "#b42318",
    "#e3e7ed",
    "#8a93a1",
    "#1b2230",
    "#556070",
)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def compact(value: float) -> str:
    """Axis label: 1500 -> '1.5k', 2000000 -> '2M', -250 -> '−250'."""
    sign = "−" if value < 0 else ""
    value = abs(value)
    for suffix, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{sign}{text}{suffix}"
    return f"{sign}{value:.0f}"


def _scale(values: list[float]) -> tuple[list[float], float, float]:
    """Tick values and the axis range, always including zero."""
    low, high = min(0.0, *values), max(0.0, *values)
    if low == high:
        high = 1.0
    step = nice_step(high - low)
    first, last = math.floor(low / step), math.ceil(high / step)
    ticks = [i * step for i in range(first, last + 1)]
    return ticks, ticks[0], ticks[-1]


def monthly_bars(
    months: list[tuple[date, Decimal]],
    *,
    currency: str,
    title: str,
    partial_last: bool = False,
    chart_id: str = "chart",
) -> Markup:
    """Bar chart of one amount per month; negative months hang below the zero line in red.

    `partial_last` marks the newest month as still running (lighter bar, "so far").
    """
    values = [float(amount) for _, amount in months]
    ticks, low, high = _scale(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * plot_h

    slot = plot_w / len(months)
    bar_w = slot * 0.7
    zero = y(0)
    first, last = months[0][0], months[-1][0]
    best = max(months, key=lambda m: m[1])
    summary = (
        f"{len(months)} months from {MONTHS[first.month - 1]} {first.year} to "
        f"{MONTHS[last.month - 1]} {last.year}; total {money(sum(a for _, a in months), currency)}"
        f"; highest {money(best[1], currency)} in {MONTHS[best[0].month - 1]} {best[0].year}."
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID}"/>'
            f'<text class="tick" x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end" '
            f'fill="{MUTED}">{escape(compact(tick))}</text>'
        )
    for i, (start, amount) in enumerate(months):
        x = LEFT + i * slot + (slot - bar_w) / 2
        centre = LEFT + i * slot + slot / 2
        running = partial_last and i == len(months) - 1
        label = f"{MONTHS[start.month - 1]} {start.year}: {money(amount, currency)}"
        if running:
            label += " (month so far)"
        kind = "neg" if amount < 0 else "pos"
        top, bottom = sorted((y(float(amount)), zero))
        # The year goes under each January, and under the first bar unless a January is close.
        show_year = start.month == 1 or (i == 0 and start.month <= 10)
        fill = CREDIT if amount < 0 else BAR
        opacity = ' fill-opacity="0.5"' if running else ""
        parts.append(
            f'<g class="bar {kind}{" running" if running else ""}"><title>{escape(label)}</title>'
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
            f'height="{max(bottom - top, 0):.1f}" fill="{fill}"{opacity}/>'
            f'<text class="month" x="{centre:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle" fill="{MUTED}">{MONTHS[start.month - 1]}</text>'
        )
        if show_year:
            parts.append(
                f'<text class="year" x="{centre:.1f}" y="{HEIGHT - BOTTOM + 37}" '
                f'text-anchor="middle" fill="{INK}" font-weight="600">{start.year}</text>'
            )
        parts.append("</g>")
    parts.append(
        f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}" '
        f'stroke="{AXIS}" stroke-width="1.5"/>'
        f'<text class="unit" x="{LEFT - 8}" y="12" text-anchor="end" fill="{MUTED}">'
        f"{escape(currency)}</text></svg>"
    )
    return Markup("".join(parts))
