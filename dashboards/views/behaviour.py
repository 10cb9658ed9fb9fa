"""View 2: attitude next to behaviour. Revenue per customer and its 12-month change by NPS
group and by class, each group's share of revenue, and a scatter of customers (last score
against revenue change) that opens the customer's page on a click."""

from __future__ import annotations

import html as markup
import math
import zlib

from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboards import figures as F
from dashboards import stats
from dashboards.queries import behaviour as Q
from dashboards.views import View
from dashboards.views.common import money, month_name, no_customers_text
from dashboards.widgets import empty_note, fmt, graph, number_table, stat_card

GROUP_COLOURS = {**F.BAND_COLOURS, "not asked": F.GREY}
GROUP_LABELS = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors",
                "non-responder": "Non-responders", "not asked": "Not asked"}  # fmt: skip
CUSTOMER_PAGE = "/customers/"
TOO_FEW = f"fewer than {stats.MIN_N} customers: too few to trust"


# --- formats -------------------------------------------------------------------------------


def signed(text: str) -> str:
    return text if text.startswith(("−", "—")) or text == "0" else "+" + text


# --- figures -------------------------------------------------------------------------------


def _tick(label: str, n: int) -> str:
    flag = " · too few" if 0 < n < stats.MIN_N else ""
    return f"{label}<br><span style='color:#556070'>n={n:,}{flag}</span>"


def _errors(estimates):
    return {
        "type": "data", "symmetric": False, "color": F.INK, "thickness": 1.2, "width": 4,
        "array": [None if e.value is None else e.high - e.value for e in estimates],
        "arrayminus": [None if e.value is None else e.value - e.low for e in estimates],
    }  # fmt: skip


def _hover(e: stats.Estimate, currency: str, what: str) -> str:
    if e.value is None:
        return f"{what}: no customers"
    text = (f"{what}: {money(e.value, currency)} (95 % CI {money(e.low)} to "
            f"{money(e.high)}), n={e.n:,}")  # fmt: skip
    return text if e.enough else f"{text} · {TOO_FEW}"


def _group_bars(report: Q.Behaviour, pick, title: str, currency: str, what: str):
    groups = [g for g in report.groups if g.customers]
    estimates = [pick(g) for g in groups]
    colours = [GROUP_COLOURS[g.group] if e.enough else F.FAINT
               for g, e in zip(groups, estimates, strict=True)]  # fmt: skip
    data = [{
        "type": "bar", "x": [_tick(GROUP_LABELS[g.group], g.customers) for g in groups],
        "y": [e.value for e in estimates], "marker": {"color": colours},
        "error_y": _errors(estimates), "hoverinfo": "text", "showlegend": False,
        "hovertext": [_hover(e, currency, what) for e in estimates],
    }]  # fmt: skip
    return F.figure(data, F.layout(title, height=360, xaxis={"type": "category"},
                                   yaxis={"title": {"text": currency}}))  # fmt: skip


def _change_bars(report: Q.Behaviour, currency: str):
    fig = _group_bars(
        report,
        lambda g: g.change_per_customer,
        "12-month revenue change per customer",
        currency,
        "change per customer",
    )
    groups = [g for g in report.groups if g.customers]
    trace = fig["data"][0]
    trace["x"] = [f"{tick}<br>{_pct(g.change_pct)}"
                  for tick, g in zip(trace["x"], groups, strict=True)]  # fmt: skip
    trace["hovertext"] = [
        f"{h}<br>{_pct(g.change_pct)} of the group's revenue a year before "
        f"(95 % CI {fmt(g.change_pct.low)} to {fmt(g.change_pct.high)} %)"
        for h, g in zip(trace["hovertext"], groups, strict=True)
    ]  # fmt: skip
    fig["layout"]["yaxis"]["zeroline"] = True
    fig["layout"]["margin"]["b"] = 84
    return fig


def _pct(e: stats.Estimate) -> str:
    return "—" if e.value is None else f"{signed(fmt(e.value))} %"


def _share_figure(report: Q.Behaviour, currency: str):
    data = []
    for g in report.groups:
        if not g.customers:
            continue
        share = report.share(g)
        label = GROUP_LABELS[g.group]
        data.append({
            "type": "bar", "orientation": "h", "name": label, "y": ["revenue"],
            "x": [share.value], "marker": {"color": GROUP_COLOURS[g.group]},
            "text": [f"{fmt(share.value, 0)} %"], "textposition": "inside",
            "insidetextanchor": "middle", "hoverinfo": "text",
            "hovertext": [f"{label}: {money(g.revenue, currency)}, {fmt(share.value)} % of "
                          f"revenue (95 % CI {fmt(share.low)} to {fmt(share.high)} %), "
                          f"{g.customers:,} customers"],
        })  # fmt: skip
    layout = F.layout(
        f"Share of the last 12 months' revenue ({money(report.total.revenue, currency)})",
        height=170, barmode="stack", margin={"l": 16, "r": 16, "t": 64, "b": 32},
        xaxis={"range": [0, 100], "ticksuffix": " %"}, yaxis={"visible": False},
    )  # fmt: skip
    layout["legend"].update(traceorder="normal")
    return F.figure(data, layout)


def _class_bars(report: Q.Behaviour):
    """The 12-month change in % of the prior year's revenue, per class × group (a % compares
    across classes, where amounts per customer differ a hundredfold)."""
    classes = report.classes
    data = []
    for group in Q.GROUPS:
        cells = {g.abc_class: g for g in report.by_class if g.group == group}
        if not any(c.customers for c in cells.values()):
            continue
        estimates = [cells[c].change_pct for c in classes]
        data.append({
            "type": "bar", "name": GROUP_LABELS[group], "x": [_class_label(c) for c in classes],
            "y": [e.value for e in estimates],
            "marker": {"color": GROUP_COLOURS[group],
                       "opacity": [1 if e.enough else 0.3 for e in estimates]},
            "error_y": _errors(estimates), "hoverinfo": "text",
            "hovertext": [_class_hover(group, c, cells[c]) for c in classes],
        })  # fmt: skip
    ticks = [_tick(_class_label(c), sum(g.customers for g in report.by_class
                                        if g.abc_class == c)) for c in classes]  # fmt: skip
    for trace in data:
        trace["x"] = ticks
    layout = F.layout("12-month revenue change by class, in % of the year before", height=380,
                      barmode="group", xaxis={"type": "category"},
                      yaxis={"title": {"text": "%"}, "ticksuffix": " %"})  # fmt: skip
    layout["title"].update(y=0.98, yanchor="top")
    layout["margin"] = {**layout["margin"], "t": 84}
    return F.figure(data, layout)


def _class_hover(group: str, abc_class: str, g: Q.GroupFigures) -> str:
    e = g.change_pct
    head = f"{GROUP_LABELS[group]}, {_class_label(abc_class)}"
    if e.value is None:
        return f"{head}: no revenue a year before" if g.customers else f"{head}: no customers"
    text = (f"{head}: {_pct(e)} (95 % CI {fmt(e.low)} to {fmt(e.high)} %), "
            f"{g.customers:,} customers")  # fmt: skip
    return text if e.enough else f"{text} · {TOO_FEW}"


def _class_label(abc_class: str) -> str:
    return "no class" if abc_class == Q.UNCLASSIFIED else f"class {abc_class}"


def _jitter(customer_id: int) -> float:
    """The same small sideways offset for a customer on every draw (±0.3)."""
    return (zlib.crc32(str(customer_id).encode()) % 601 - 300) / 1000


def y_window(changes: list[float]) -> tuple[float, float] | None:
    """The 1st to 99th percentile of the changes, padded by a tenth, when a few very large
    customers would otherwise squeeze everyone else into a line at zero (the full range
    more than three times wider); None: show the full range."""
    if len(changes) < 20:
        return None
    ordered = sorted(changes)
    low, high = ordered[len(ordered) // 100], ordered[-1 - len(ordered) // 100]
    low, high = min(low, 0.0), max(high, 0.0)  # keep the zero line in view
    pad = (high - low) / 10 or 1.0
    if ordered[-1] - ordered[0] <= 3 * (high - low):
        return None
    return low - pad, high + pad


def _scatter_figure(sc: Q.Scatter, currency: str):
    window = y_window([p.change for p in sc.points])
    low, high = window or (-math.inf, math.inf)
    data, days = [], {}  # answers come in waves: a few hundred distinct days
    for abc_class, colour in [*F.CLASS_COLOURS.items(), (Q.UNCLASSIFIED, F.BLACK)]:
        points = [p for p in sc.points if p.abc_class == abc_class]
        if not points:
            continue
        points.sort(key=lambda p: not low <= p.change <= high)  # the legend shows the first
        # Beyond the window a customer sits on its edge as a triangle pointing outwards;
        # the hover gives the real figure.
        data.append({
            "type": "scattergl", "mode": "markers", "name": _class_label(abc_class),
            "x": [p.score + _jitter(p.customer_id) for p in points],
            # whole currency units: a tenth of the bytes of a full float, the same dots
            "y": [_y(p.change, low, high) for p in points],
            "customdata": [_point_data(p, days) for p in points],
            "marker": {"color": colour, "size": 6, "opacity": 0.7,
                       "symbol": [_edge_symbol(p.change, low, high) for p in points]
                       if window else "circle"},
            "hovertemplate": _hover_template(_class_label(abc_class), currency),
        })  # fmt: skip
    if sc.largest:
        note = (
            f"{len(sc.points):,} of {sc.customers:,} promoters, passives and detractors: "
            f"the {sc.largest:,} largest by revenue and a fixed sample of the rest"
        )
    else:
        note = f"all {sc.customers:,} promoters, passives and detractors"
    if window:
        outside = sum(not low <= p.change <= high for p in sc.points)
        note += f"; {outside:,} beyond the scale are drawn as triangles at its edge"
    bands = [{"type": "line", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
              "line": {"color": F.GREY, "width": 1, "dash": "dot"}}
             for x in (6.5, 8.5)]  # fmt: skip
    layout = F.layout(
        f"Each customer: last NPS score against 12-month revenue change<br>"
        f"<span style='font-size:12px;color:#556070'>{note}; click a point to open the "
        "customer</span>",
        height=500, shapes=bands, hovermode="closest",
        xaxis={"range": [-0.6, 10.6], "dtick": 1, "title": {"text": "last NPS score (0–10)"}},
        yaxis={"title": {"text": f"revenue change, {currency}"}, "zeroline": True,
               **({"range": _with_margin(window)} if window else {})},
        margin={"l": 72, "r": 16, "t": 96, "b": 56},
    )  # fmt: skip
    layout["title"].update(y=0.96, yanchor="top")
    return F.figure(data, layout)


def _with_margin(window: tuple[float, float]) -> list[float]:
    """The axis a little wider than the window, so triangles on its edge show whole."""
    margin = (window[1] - window[0]) * 0.03
    return [window[0] - margin, window[1] + margin]


def _y(change: float, low: float, high: float) -> float:
    return high if change > high else low if change < low else round(change)


def _edge_symbol(change: float, low: float, high: float) -> str:
    return "triangle-up" if change > high else "triangle-down" if change < low else "circle"


# Per point only the facts (customdata); the browser formats the hover from one template
# per trace: a third of the bytes and of the time of a hover string per customer. The click
# (assets/clicks.js) reads the customer number first.
_ID, _LABEL, _SCORE, _ANSWERED, _REVENUE, _CHANGE = range(6)


def _point_data(p: Q.Point, days: dict) -> list:
    # Plotly reads a few tags in hover text: the name and number are shown as text.
    label = f"<b>{_plain(p.name)}</b> ({_plain(p.external_id)})"
    answered = days.get(p.answered_on)
    if answered is None:  # formatted once per day, not per customer
        answered = days[p.answered_on] = f"{p.answered_on:%-d %b %Y}"
    return [p.external_id, label, p.score, answered, round(p.revenue_12m), round(p.change)]


def _plain(text: str) -> str:
    """Text Plotly will not read as a tag (escaped only when it could be one: most names
    have nothing to escape, and this runs for thousands of points)."""
    return markup.escape(text, quote=False) if "<" in text or "&" in text else text


def _hover_template(class_label: str, currency: str) -> str:
    return (f"%{{customdata[{_LABEL}]}}, {class_label}<br>"
            f"score %{{customdata[{_SCORE}]}} on %{{customdata[{_ANSWERED}]}}<br>"
            f"revenue 12 months %{{customdata[{_REVENUE}]:,.3~s}} {currency}<br>"
            f"change %{{customdata[{_CHANGE}]:+,.3~s}} {currency}<extra></extra>")  # fmt: skip


# --- the view ------------------------------------------------------------------------------


def _change_card(g: Q.GroupFigures, currency: str):
    title = f"{GROUP_LABELS[g.group]}: revenue vs a year before"
    e, pct = g.change_per_customer, g.change_pct
    if not g.customers:
        return stat_card(title, "—", "no customers in this group")
    value = "—" if pct.value is None else f"{signed(fmt(pct.value))} %"
    if not e.enough:
        return stat_card(title, value, f"only {e.n} customers: too few to trust", muted=True)
    return stat_card(title, value, f"95 % CI {fmt(pct.low)} to {fmt(pct.high)} % · n={e.n:,}")


def _silent_share_card(report: Q.Behaviour, currency: str):
    groups = {g.group: g for g in report.groups}
    part = groups["detractor"].sums + groups["non-responder"].sums
    t = report.total
    share = Q.ratio(t.n, part.revenue, t.revenue, part.revenue_sq, t.revenue_sq,
                    part.revenue_sq, share=True)  # fmt: skip
    return stat_card("Revenue from detractors + non-responders", f"{fmt(share.value)} %",
                     f"{money(part.revenue, currency)} · CI {fmt(share.low)} to "
                     f"{fmt(share.high)} % · n={part.n:,}")  # fmt: skip


def _data(ctx):
    report = Q.behaviour(ctx.conn, ctx.filters, tz=ctx.tz)
    return report


def render(ctx):
    report = _data(ctx)
    currency = ctx.base_currency
    if not report.total.n:
        return [empty_note(no_customers_text(ctx.conn, report.month))]
    groups = {g.group: g for g in report.groups}
    out = [
        html.P(f"As of {month_name(report.month)}: {report.total.n:,} customers who bought in "
               "the last 24 months, by their newest NPS answer.", className="dash-question"),
        html.Div([_change_card(groups[k], currency) for k in
                  ("promoter", "detractor", "non-responder")]
                 + [_silent_share_card(report, currency)], className="dash-cards"),
        html.Div([
            graph("behaviour-revenue", _group_bars(
                report, lambda g: g.revenue_per_customer,
                "Revenue per customer, last 12 months", currency, "revenue per customer")),
            graph("behaviour-change", _change_bars(report, currency)),
        ], className="dash-grid"),
        graph("behaviour-share", _share_figure(report, currency)),
    ]  # fmt: skip
    sc = Q.scatter(ctx.conn, ctx.filters, tz=ctx.tz)
    if sc.points:
        out.append(graph("behaviour-scatter", _scatter_figure(sc, currency),
                         clear_on_unhover=True))  # fmt: skip
    else:
        out.append(empty_note("No customer here has an NPS answer from the last 24 months."))
    out.append(dcc.Location(id="behaviour-go", refresh=True))
    out.append(dcc.Store(id="behaviour-customer-page", data=CUSTOMER_PAGE))
    out.append(graph("behaviour-class", _class_bars(report)))
    columns, rows = _rows(report)
    out.append(html.Details([html.Summary("The figures behind the charts"),
                             number_table(columns, [_shown(columns, r) for r in rows],
                                          numeric_from=2)],
                            className="dash-details"))  # fmt: skip
    out.append(html.P(_footnote(currency), className="dash-footnote"))
    return out


def _footnote(currency: str) -> str:
    return (
        "Association, not cause: promoters may buy more because they are happy, or be happy "
        "because they are large, well-served accounts. The figures are a snapshot as of the "
        "month of the period's last day (the period's start does not matter here), from the "
        "monthly customer facts, over customers who bought in the 24 months up to it. Groups: "
        "non-responders were invited in a wave closed in the last 12 months and answered none "
        "(this outranks an older answer); promoters (9–10), passives (7–8) and detractors "
        "(0–6) by their newest NPS answer within 24 months; the rest were not asked lately. "
        "The survey and wave filters do not apply: the group comes from the newest answer to "
        "any NPS survey. Class, programme, owner and team are today's; language is the "
        f"customer's. Revenue is the last 12 months in {currency} (orders less credits); the "
        "change is against the 12 months before. Means have 95 % intervals (± 1.96 standard "
        "errors); shares and changes in % are ratios of sums with the ratio estimator's 95 % "
        f"interval. Groups with fewer than {stats.MIN_N} customers are grey or faded. The "
        "scatter places each score with a small sideways jitter so equal scores do not hide "
        "each other."
    )


COLUMNS = ["section", "group", "class", "customers", "revenue_12m", "revenue_share_pct",
           "share_ci_low", "share_ci_high", "revenue_per_customer", "revenue_ci_low",
           "revenue_ci_high", "change_per_customer", "change_ci_low", "change_ci_high",
           "change_pct", "change_pct_ci_low", "change_pct_ci_high"]  # fmt: skip


def _r(value, places=1):
    return None if value is None else round(value, places)


def _row(section: str, g: Q.GroupFigures, share: stats.Estimate | None) -> list:
    r, c, p = g.revenue_per_customer, g.change_per_customer, g.change_pct
    share = share or stats.EMPTY
    return [section, g.group, g.abc_class or "all", g.customers, _r(g.revenue, 2),
            _r(share.value), _r(share.low), _r(share.high), _r(r.value, 0), _r(r.low, 0),
            _r(r.high, 0), _r(c.value, 0), _r(c.low, 0), _r(c.high, 0), _r(p.value),
            _r(p.low), _r(p.high)]  # fmt: skip


def _rows(report: Q.Behaviour):
    rows = [_row("group", g, report.share(g)) for g in report.groups]
    rows += [_row("class × group", g, None) for g in report.by_class if g.customers]
    return COLUMNS, rows


def _shown(columns, row):
    """A table row for the page: figures from fewer than MIN_N customers marked too few."""
    out = list(row)
    if row[columns.index("customers")] < stats.MIN_N:
        for i in range(columns.index("revenue_per_customer"), len(columns)):
            if isinstance(out[i], float | int) and not isinstance(out[i], bool):
                out[i] = f"{fmt(out[i])} (too few)"
    return out


def table(ctx):
    return _rows(_data(ctx))


# --- the click through to the customer page ------------------------------------------------


def register(dash_app) -> None:
    """The scatter's click through to the customer page (dashboards/callbacks.py calls
    this): in the browser (assets/clicks.js), so the page opens without a round trip."""
    dash_app.clientside_callback(
        ClientsideFunction(namespace="feedback", function_name="customerHref"),
        Output("behaviour-go", "href"), Input("behaviour-scatter", "clickData"),
        State("behaviour-customer-page", "data"), prevent_initial_call=True,
    )  # fmt: skip


VIEW = View(
    key="behaviour",
    label="Attitude vs behaviour",
    question="Do promoters buy more than detractors, and how much revenue comes from each?",
    render=render,
    table=table,
    survey_filtered=False,
)
