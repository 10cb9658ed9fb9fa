"""View 1: NPS and CSI over time, each point with its 95 % interval and n; periods with
fewer than 30 answers greyed; a ring where the change from the previous period is
significant."""

from __future__ import annotations

from dash import html

from dashboards import figures as F
from dashboards import stats
from dashboards.queries.trend import csi_by_period, nps_by_period
from dashboards.views import View
from dashboards.widgets import empty_note, fmt, graph, number_table, stat_card


def _trend_figure(labels, estimates, significant, *, title, yrange, colour, name):
    enough = [e.enough for e in estimates]
    ticktext = [f"{label}<br><span style='color:#556070'>n={e.n:,}</span>"
                for label, e in zip(labels, estimates, strict=True)]  # fmt: skip

    def series(keep: bool):
        pick = [k == keep and e.n > 0 for k, e in zip(enough, estimates, strict=True)]
        y = [e.value if p else None for e, p in zip(estimates, pick, strict=True)]
        plus = [(e.high - e.value) if p else None for e, p in zip(estimates, pick, strict=True)]
        minus = [(e.value - e.low) if p else None for e, p in zip(estimates, pick, strict=True)]
        text = [f"{name} {fmt(e.value)} (95 % CI {fmt(e.low)} to {fmt(e.high)}), n={e.n:,}"
                if p else "" for e, p in zip(estimates, pick, strict=True)]  # fmt: skip
        return y, plus, minus, text

    y, plus, minus, text = series(True)
    data = [{
        "type": "scatter", "mode": "lines+markers", "name": name, "x": labels, "y": y,
        "line": {"color": colour, "width": 2}, "marker": {"size": 8, "color": colour},
        "error_y": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                    "color": colour, "thickness": 1.2, "width": 4},
        "text": text, "hovertemplate": "%{text}<extra></extra>", "connectgaps": False,
    }]  # fmt: skip
    y, plus, minus, text = series(False)
    if any(v is not None for v in y):
        data.append({
            "type": "scatter", "mode": "markers", "name": "fewer than 30 answers",
            "x": labels, "y": y, "marker": {"size": 8, "color": F.FAINT},
            "error_y": {"type": "data", "symmetric": False, "array": plus,
                        "arrayminus": minus, "color": F.FAINT, "thickness": 1, "width": 3},
            "text": [t.replace(name, f"{name} (too few answers to trust)") for t in text],
            "hovertemplate": "%{text}<extra></extra>",
        })  # fmt: skip
    marks = [(label, e.value) for label, e, s in zip(labels, estimates, significant, strict=True)
             if s]  # fmt: skip
    if marks:
        data.append({
            "type": "scatter", "mode": "markers",
            "name": "significant change from the period before",
            "x": [m[0] for m in marks], "y": [m[1] for m in marks],
            "marker": {"size": 17, "color": "rgba(0,0,0,0)",
                       "line": {"color": F.ORANGE, "width": 2.5}},
            "hoverinfo": "skip",
        })  # fmt: skip
    return F.figure(data, F.layout(
        title,
        yaxis={"range": yrange, "title": {"text": name}},
        xaxis={"type": "category", "tickmode": "array", "tickvals": labels,
               "ticktext": ticktext},
    ))  # fmt: skip


def _points(ctx):
    nps = nps_by_period(ctx.conn, ctx.filters, nps_templates=ctx.nps_templates, tz=ctx.tz)
    csi = csi_by_period(ctx.conn, ctx.filters, tz=ctx.tz)
    return nps, csi


def _latest(points):
    with_answers = [p for p in points if p.estimate.n]
    return with_answers[-1] if with_answers else None


def _card(title, point, unit=""):
    if point is None:
        return stat_card(title, "—", "no answers in this period")
    e = point.estimate
    value = f"{fmt(e.value)}{unit}"
    detail = f"{point.period} · 95 % CI {fmt(e.low)} to {fmt(e.high)} · n={e.n:,}"
    if not e.enough:
        detail = f"{point.period} · only {e.n} answers: too few to trust"
    return stat_card(title, value, detail, muted=not e.enough)


def render(ctx):
    nps, csi = _points(ctx)
    labels = [p.period for p in nps]
    out = [html.Div([_card("NPS, latest period", _latest(nps)),
                     _card("CSI, latest period", _latest(csi), " / 100")],
                    className="dash-cards")]  # fmt: skip
    if any(p.n for p in nps):
        out.append(graph("nps-trend", _trend_figure(
            labels, [p.estimate for p in nps], [p.change_significant for p in nps],
            title="NPS per period (−100 to 100)", yrange=[-100, 100], colour=F.BLUE,
            name="NPS")))  # fmt: skip
    else:
        out.append(empty_note("No NPS answers match these filters."))
    if any(p.estimate.n for p in csi):
        out.append(graph("csi-trend", _trend_figure(
            [p.period for p in csi], [p.estimate for p in csi],
            [p.change_significant for p in csi], title="CSI per period (0 to 100)",
            yrange=[0, 100], colour=F.GREEN, name="CSI")))  # fmt: skip
    columns, rows = _rows(nps, csi)
    out.append(html.Details([html.Summary("The figures behind the charts"),
                             number_table(columns, rows)], className="dash-details"))  # fmt: skip
    out.append(html.P(
        "Bars are 95 % intervals (NPS: normal approximation; CSI: mean ± 1.96 standard "
        f"errors). Periods with fewer than {stats.MIN_N} answers are grey; a ring marks a "
        "change from the period before that is larger than chance would explain (z > 1.96).",
        className="dash-footnote"))  # fmt: skip
    return out


def _rows(nps, csi):
    columns = ["period", "nps_n", "promoters", "passives", "detractors", "nps", "nps_ci_low",
               "nps_ci_high", "nps_change_significant", "csi_n", "csi", "csi_ci_low",
               "csi_ci_high", "csi_change_significant"]  # fmt: skip
    rows = []
    for p, c in zip(nps, csi, strict=True):
        n, s = p.estimate, c.estimate
        rows.append([p.period, n.n, p.promoters, p.passives, p.detractors, fmt(n.value),
                     fmt(n.low), fmt(n.high), p.change_significant, s.n, fmt(s.value),
                     fmt(s.low), fmt(s.high), c.change_significant])  # fmt: skip
    return columns, rows


def table(ctx):
    return _rows(*_points(ctx))


VIEW = View(
    key="nps",
    label="NPS & CSI over time",
    question="Is customer attitude getting better or worse, and is the change real?",
    render=render,
    table=table,
)
