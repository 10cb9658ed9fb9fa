"""View 4: the response funnel. How many invitations were delivered, opened and answered,
per wave, by language and by class; and whether non-response is growing."""

from __future__ import annotations

from dash import html

from dashboards import figures as F
from dashboards import stats
from dashboards.queries.funnel import funnel, nonresponse_by_period
from dashboards.views import View
from dashboards.widgets import empty_note, fmt, graph, number_table, stat_card

LANGUAGE_NAMES = {"en": "English", "da": "Danish", "sv": "Swedish", "nb": "Norwegian"}
RATES = (  # (attribute, legend, colour)
    ("delivery_rate", "delivered, % of invited", F.SKY),
    ("open_rate", "opened, % of delivered", F.ORANGE),
    ("response_rate", "answered, % of delivered", F.BLUE),
)
NON_RESPONSE = "non-response period"
TOO_FEW = f"fewer than {stats.MIN_N}: too few to trust"


def _ci(e: stats.Estimate) -> str:
    return f"95 % CI {fmt(e.low)} to {fmt(e.high)} %, n={e.n:,}"


def _rate_card(title: str, e: stats.Estimate, what: str):
    if not e.n:
        return stat_card(title, "—", f"no {what}")
    if not e.enough:
        return stat_card(title, f"{fmt(e.value)} %", f"only {e.n} {what}: too few",
                         muted=True)  # fmt: skip
    return stat_card(title, f"{fmt(e.value)} %", _ci(e))


def _funnel_figure(total):
    counts = [total.invited, total.delivered, total.opened, total.answered]
    rates = [None, total.delivery_rate, total.open_rate, total.response_rate]
    text = [f"{total.invited:,}"] + [
        f"{c:,} ({fmt(r.value)} %)" for c, r in zip(counts[1:], rates[1:], strict=True)
    ]
    hover = [f"{total.invited:,} invitations sent"] + [
        f"{c:,}: {fmt(r.value)} % ({_ci(r)})" for c, r in zip(counts[1:], rates[1:], strict=True)
    ]
    steps = ["invited", "delivered", "opened", "answered"]
    data = [{"type": "funnel", "y": steps, "x": counts, "text": text, "textinfo": "text",
             "hovertext": hover, "hoverinfo": "text",
             "marker": {"color": [F.GREY, F.SKY, F.ORANGE, F.BLUE]},
             "connector": {"fillcolor": F.GRID}}]  # fmt: skip
    return F.figure(data, F.layout("The funnel: all waves sent in the period", height=360,
                                   margin={"l": 80, "r": 16, "t": 48, "b": 24}))  # fmt: skip


def _stacked_title(layout: dict) -> dict:
    """Title above the legend (side by side they collide in a half-width chart)."""
    layout["title"].update(y=0.98, yanchor="top")
    layout["margin"] = {**layout["margin"], "t": 84}
    return layout


def _wave_tick(label: str) -> str:
    survey, _, day = label.partition(": wave of ")
    return f"{day}<br>{survey if len(survey) <= 16 else survey[:15] + '…'}"


def _rates_figure(groups, labels, title, *, height=360):
    """Grouped bars: each group's three rates with 95 % intervals; groups with fewer than
    MIN_N invitations faded and marked too few."""
    ticks = []
    for label, g in zip(labels, groups, strict=True):
        flag = " · too few" if g.invited < stats.MIN_N else ""
        ticks.append(f"{label}<br><span style='color:#556070'>n={g.invited:,}{flag}</span>")
    data = []
    for attribute, name, colour in RATES:
        estimates = [getattr(g, attribute) for g in groups]
        data.append({
            "type": "bar", "name": name, "x": ticks, "y": [e.value for e in estimates],
            # too few: faded (not grey, so the three steps stay apart) and marked in the tick
            "marker": {"color": colour, "opacity": [1 if e.enough else 0.3 for e in estimates]},
            "error_y": {"type": "data", "symmetric": False, "color": F.INK, "thickness": 1,
                        "array": [None if e.value is None else e.high - e.value
                                  for e in estimates],
                        "arrayminus": [None if e.value is None else e.value - e.low
                                       for e in estimates]},
            "hovertext": [f"{name}: {fmt(e.value)} % ({_ci(e)})" +
                          ("" if e.enough else f" · {TOO_FEW}") for e in estimates],
            "hoverinfo": "text",
        })  # fmt: skip
    return F.figure(data, _stacked_title(F.layout(
        title, height=height, barmode="group", yaxis={"range": [0, 105], "title": {"text": "%"}},
        xaxis={"type": "category", "tickangle": 0}, margin={"l": 56, "r": 16, "b": 80},
    )))  # fmt: skip


def _nonresponse_figure(points):
    labels = [p.period for p in points]
    ticks = F.short_period_ticks(labels, [p.n for p in points])
    data = []
    series = ((True, F.BLACK, "non-response"),
              (False, F.FAINT, f"fewer than {stats.MIN_N} customers"))  # fmt: skip
    for keep, colour, name in series:
        pick = [p.n > 0 and p.estimate.enough == keep for p in points]
        if not any(pick):
            continue
        es = [p.estimate if k else None for p, k in zip(points, pick, strict=True)]
        data.append({
            "type": "scatter", "mode": "lines+markers" if keep else "markers", "name": name,
            "x": ticks, "y": [e.value if e else None for e in es],
            "line": {"color": colour, "width": 2}, "marker": {"size": 8, "color": colour},
            "error_y": {"type": "data", "symmetric": False, "color": colour, "thickness": 1.2,
                        "array": [e.high - e.value if e else None for e in es],
                        "arrayminus": [e.value - e.low if e else None for e in es]},
            "hovertext": [f"{label}: {fmt(e.value)} % silent ({_ci(e)})" if e else ""
                          for label, e in zip(labels, es, strict=True)],
            "hoverinfo": "text", "connectgaps": False,
        })  # fmt: skip
    return F.figure(data, _stacked_title(F.layout(
        "Non-response per period: % of customers who stayed silent", height=360,
        yaxis={"range": [0, 100], "title": {"text": "% silent"}},
        xaxis={"type": "category", "tickangle": 0},
    )))  # fmt: skip


def _language(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def render(ctx):
    report = funnel(ctx.conn, ctx.filters, tz=ctx.tz)
    points = nonresponse_by_period(ctx.conn, ctx.filters, tz=ctx.tz)
    total = report.total
    if not total.invited and not any(p.n for p in points):
        return [empty_note("No invitations were sent, and no wave closed, in this period "
                           "for these filters.")]  # fmt: skip
    latest = next((p for p in reversed(points) if p.n), None)
    waves = len(report.waves)
    out = [html.Div([
        stat_card("Invited", fmt(total.invited),
                  f"invitations in {waves} wave{'s' if waves != 1 else ''} sent in the period"),
        _rate_card("Delivered", total.delivery_rate, "invitations"),
        _rate_card("Opened", total.open_rate, "delivered invitations"),
        _rate_card("Response rate", total.response_rate, "delivered invitations"),
        _rate_card(f"Non-response, {latest.period}" if latest else "Non-response",
                   latest.estimate if latest else stats.EMPTY, "customers"),
    ], className="dash-cards")]  # fmt: skip
    top = [
        graph("funnel-total", _funnel_figure(total)) if total.invited
        else empty_note("No invitations were sent in this period for these filters."),
        graph("funnel-nonresponse", _nonresponse_figure(points)) if any(p.n for p in points)
        else empty_note("No wave closed in this period for these filters, so there is no "
                        "non-response to show."),
    ]  # fmt: skip
    out.append(html.Div(top, className="dash-grid"))
    if total.invited:
        wave_labels = [_wave_tick(w.label) for w in report.waves]
        out.append(
            graph(
                "funnel-waves",
                _rates_figure(
                    [w.funnel for w in report.waves], wave_labels, "Each wave sent in the period"
                ),
            )
        )
        class_labels = [
            f"class {f.group}" if len(f.group) == 1 else f.group for f in report.by_class
        ]
        out.append(html.Div([
            graph("funnel-language", _rates_figure(
                report.by_language, [_language(f.group) for f in report.by_language],
                "By language of the invitation")),
            graph("funnel-class", _rates_figure(
                report.by_class, class_labels, "By the customer's current class")),
        ], className="dash-grid"))  # fmt: skip
    columns, rows = _rows(report, points)
    shown = [_shown(columns, row) for row in rows]
    split = columns.index("customers_counted")
    funnel_rows = [r[:split] for r in shown if r[0] != NON_RESPONSE]
    silence = [[r[1], *r[split:]] for r in shown if r[0] == NON_RESPONSE]
    out.append(html.Details([
        html.Summary("The figures behind the charts"),
        number_table(columns[:split], funnel_rows, numeric_from=2),
        number_table(["period", *columns[split:]], silence),
    ], className="dash-details"))  # fmt: skip
    out.append(html.P(
        "Invited: invitations handed to sending (those still queued are left out; those the "
        "mail service refused count). Delivered: not bounced or failed; plain e-mail gives no "
        "delivery receipt, so a sent mail counts as delivered until a bounce says otherwise. "
        "Opened: a tracked open or click, or an answer (an answer proves the mail was "
        "opened); opens are undercounted where mail clients block tracking pixels. Answered: "
        "an answer was saved. Delivery rate is % of invited; open and response rates are % "
        "of delivered. Waves count in the period by the day they were sent; language is the "
        "invitation's, class the customer's current one. Non-response counts customers, not "
        "invitations: per wave as fixed when it closed, by the day it closed; opted-out and "
        "undelivered customers are left out. Bars and whiskers are 95 % Wilson intervals; "
        f"groups with fewer than {stats.MIN_N} are faded or grey and marked too few.",
        className="dash-footnote"))  # fmt: skip
    return out


COLUMNS = ["dimension", "group", "invited", "delivered", "opened", "answered",
           "delivery_rate", "delivery_ci_low", "delivery_ci_high", "open_rate", "open_ci_low",
           "open_ci_high", "response_rate", "response_ci_low", "response_ci_high",
           "customers_counted", "customers_silent", "non_response_rate", "non_response_ci_low",
           "non_response_ci_high"]  # fmt: skip
_RATE_COLUMNS = {  # each rate and the column holding its n
    "delivery_rate": "invited", "open_rate": "delivered", "response_rate": "delivered",
    "non_response_rate": "customers_counted",
}  # fmt: skip


def _r(value):
    return None if value is None else round(value, 1)


def _funnel_row(dimension, group, f):
    row = [dimension, group, f.invited, f.delivered, f.opened, f.answered]
    for e in (f.delivery_rate, f.open_rate, f.response_rate):
        row += [_r(e.value), _r(e.low), _r(e.high)]
    return row + [None] * 5


def _rows(report, points):
    rows = [_funnel_row("all", "all waves", report.total)]
    rows += [_funnel_row("wave", w.label, w.funnel) for w in report.waves]
    rows += [_funnel_row("language", _language(f.group), f) for f in report.by_language]
    rows += [_funnel_row("class", f.group, f) for f in report.by_class]
    for p in points:
        e = p.estimate
        rows.append([NON_RESPONSE, p.period, *([None] * 13), p.counted, p.silent,
                     _r(e.value), _r(e.low), _r(e.high)])  # fmt: skip
    return COLUMNS, rows


def _shown(columns, row):
    """A table row for the page: rates from fewer than MIN_N marked, never bare."""
    out = list(row)
    for name, base in _RATE_COLUMNS.items():
        i, n = columns.index(name), row[columns.index(base)]
        if out[i] is not None and n is not None and n < stats.MIN_N:
            out[i] = f"{fmt(out[i])} (too few)"
    return out


def table(ctx):
    report = funnel(ctx.conn, ctx.filters, tz=ctx.tz)
    return _rows(report, nonresponse_by_period(ctx.conn, ctx.filters, tz=ctx.tz))


VIEW = View(
    key="funnel",
    label="Response funnel",
    question="Do our invitations reach customers and get answered, and is silence growing?",
    render=render,
    table=table,
)
