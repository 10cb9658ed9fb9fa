"""View 6: the closed loop. Are cases handled within their deadline, by which team and
person, how fast, how did they end and what caused them?"""

from __future__ import annotations

from dash import html

from dashboards import figures as F
from dashboards import stats
from dashboards.queries.loop import loop_figures
from dashboards.views import View
from dashboards.widgets import empty_note, fmt, graph, number_table, stat_card

PARTS = (  # the three parts of a group's cases, left to right
    ("closed_in_time", "closed in time", F.GREEN),
    ("breached", "deadline missed", F.VERMILLION),
    ("open_in_time", "open, not yet due", F.SKY),
)


def _hours(e: stats.Estimate) -> str:
    if e.value is None:
        return "—"
    return f"{fmt(e.value)} h" if e.value < 72 else f"{fmt(e.value / 24)} days"


def _median_card(title: str, e: stats.Estimate, what: str):
    if not e.n:
        return stat_card(title, "—", f"no {what} yet")
    detail = f"95 % CI {_hours(stats.Estimate(e.low, None, None, None, e.n))} to " \
             f"{_hours(stats.Estimate(e.high, None, None, None, e.n))}, n={e.n:,}"  # fmt: skip
    if not e.enough:
        return stat_card(title, _hours(e), f"only {e.n} {what}: too few", muted=True)
    return stat_card(title, _hours(e), detail)


def _share_card(title: str, e: stats.Estimate, what: str):
    if not e.n:
        return stat_card(title, "—", f"no {what}")
    if not e.enough:
        return stat_card(title, f"{fmt(e.value)} %", f"only {e.n} {what}: too few",
                         muted=True)  # fmt: skip
    return stat_card(title, f"{fmt(e.value)} %",
                     f"of {e.n:,} {what} · 95 % CI {fmt(e.low)} to {fmt(e.high)} %")  # fmt: skip


def _parts_figure(rows, title, height):
    """Stacked horizontal bars: each group's cases split into in time, breached, open."""
    labels = [f"{r.label} (n={r.opened:,})" for r in rows]
    data = []
    for attribute, name, colour in PARTS:
        values = [getattr(r, attribute) for r in rows]
        hover = []
        for r, v in zip(rows, values, strict=True):
            share = r.in_time_share
            note = (f"{fmt(share.value)} % of {share.n:,} closed cases in time "
                    f"(95 % CI {fmt(share.low)} to {fmt(share.high)} %)" if share.enough
                    else f"only {share.n} closed: too few for a share")  # fmt: skip
            hover.append(f"{r.label}: {v:,} {name}<br>{note}")
        data.append({"type": "bar", "orientation": "h", "name": name, "y": labels,
                     "x": values, "marker": {"color": colour}, "hovertext": hover,
                     "hoverinfo": "text"})  # fmt: skip
    layout = F.layout(
        title, height=height, barmode="stack",
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": "cases opened in the period"}},
        margin={"l": 16, "r": 16, "t": 84, "b": 48},
    )  # fmt: skip
    layout["title"].update(y=0.98, yanchor="top")  # above the legend, not beside it
    layout["legend"]["traceorder"] = "normal"
    return F.figure(data, layout)


def _causes_figure(causes):
    recorded = [c for c in causes if c.key is not None]
    missing = sum(c.cases for c in causes if c.key is None)
    title = "Root causes of closed cases"
    if missing:
        title += f" ({missing:,} closed without one)"
    data = [{"type": "bar", "orientation": "h", "y": [c.label for c in recorded],
             "x": [c.cases for c in recorded], "marker": {"color": F.BLUE},
             "text": [f"{c.cases:,}" for c in recorded], "textposition": "outside",
             "cliponaxis": False,
             "hovertemplate": "%{y}: %{x:,} cases<extra></extra>"}]  # fmt: skip
    return F.figure(data, F.layout(
        title, height=max(220, 90 + 30 * len(recorded)), showlegend=False,
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": "closed cases"}},
        margin={"l": 16, "r": 60, "t": 48, "b": 48},
    ))  # fmt: skip


def _outcomes_figure(o):
    labels = ["resolved", "closed, no action", "customer: solved", "customer: not solved",
              "asked, no answer", "closed, not asked"]  # fmt: skip
    values = [o.resolved, o.no_action, o.solved, o.not_solved, o.no_answer, o.not_asked]
    colours = [F.GREEN, F.GREY, F.GREEN, F.VERMILLION, F.FAINT, F.FAINT]
    data = [{"type": "bar", "orientation": "h", "y": labels, "x": values,
             "marker": {"color": colours}, "text": [f"{v:,}" for v in values],
             "textposition": "outside", "cliponaxis": False,
             "hovertemplate": "%{y}: %{x:,} cases<extra></extra>"}]  # fmt: skip
    return F.figure(data, F.layout(
        "How the cases ended, and what customers said afterwards", height=300,
        showlegend=False, yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 16, "r": 60, "t": 48, "b": 48},
    ))  # fmt: skip


def _figures(ctx):
    args = (ctx.conn, ctx.filters)
    return loop_figures(*args, tz=ctx.tz, now=ctx.now)


def render(ctx):
    report, ended, causes = _figures(ctx)
    total = report.total
    if not total.opened:
        return [empty_note("No cases were opened in this period for these filters.")]
    solved = ended.solved_share
    height = max(260, 140 + 30 * max(len(report.teams), len(report.owners)))
    out = [html.Div([
        stat_card("Cases opened", fmt(total.opened),
                  f"{total.still_open:,} still open · {total.closed:,} closed"),
        _share_card("Closed within deadline", total.in_time_share, "closed cases"),
        stat_card("Deadline missed", fmt(total.breached),
                  f"{total.closed_late:,} closed late · {total.open_overdue:,} open and "
                  "overdue"),
        _median_card("Median time to first action", total.to_first_action, "cases acted on"),
        _median_card("Median time to close", total.to_close, "closed cases"),
        _share_card("Customer says solved", solved, "follow-up answers"),
    ], className="dash-cards")]  # fmt: skip
    out.append(html.Div([
        graph("loop-teams", _parts_figure(report.teams, "By team", height)),
        graph("loop-owners", _parts_figure(report.owners, "By assignee", height)),
    ], className="dash-grid"))  # fmt: skip
    out.append(html.Div([
        graph("loop-causes", _causes_figure(causes))
        if any(c.key for c in causes)
        else empty_note("No root cause was recorded on the cases closed in this period."),
        graph("loop-outcomes", _outcomes_figure(ended)),
    ], className="dash-grid"))  # fmt: skip
    columns, rows = _rows(report, ended, causes)
    group_rows = [_shown(columns, r) for r in rows if r[0] in ("all", "team", "assignee")]
    other = [r[:3] for r in rows if r[0] not in ("all", "team", "assignee")]
    out.append(html.Details([
        html.Summary("The figures behind the charts"),
        number_table(columns, group_rows, numeric_from=2),
        number_table(["dimension", "group", "cases"], other, numeric_from=2),
    ], className="dash-details"))  # fmt: skip
    out.append(html.P(
        "Cases count in the period by the day they were opened. Closed within deadline: "
        "resolved or closed without action no later than the case's due time, as on the "
        "queue page; the share is of closed cases (95 % Wilson interval). Deadline missed: "
        "closed after the due time, or still open past it now. Times are plain elapsed "
        "hours from the case being opened (business hours and holidays are not taken out); "
        "medians with a distribution-free 95 % interval. Cases are grouped by the team and "
        "person they are assigned to now, and on this view the owner and team filters choose "
        "cases by their assignee and team (elsewhere: customers by account owner). "
        "Choosing a survey or wave leaves out churn-risk cases, which "
        "come from silence rather than an answer. Language is the customer's. Root causes "
        "are themes recorded on closing; 'Customer says solved' is the share of yes among "
        "answers to the follow-up question (a no reopens the case). Figures from fewer than "
        f"{stats.MIN_N} cases are grey and marked too few.",
        className="dash-footnote"))  # fmt: skip
    return out


COLUMNS = ["dimension", "group", "opened", "closed", "closed_in_time", "in_time_share",
           "in_time_ci_low", "in_time_ci_high", "closed_late", "open_overdue", "breached",
           "still_open", "first_action_n", "first_action_median_h", "first_action_ci_low_h",
           "first_action_ci_high_h", "close_n", "close_median_h", "close_ci_low_h",
           "close_ci_high_h"]  # fmt: skip
_ESTIMATES = {"in_time_share": "closed", "first_action_median_h": "first_action_n",
              "close_median_h": "close_n"}  # fmt: skip


def _r(value):
    return None if value is None else round(value, 1)


def _group_row(dimension, r):
    share, first, close = r.in_time_share, r.to_first_action, r.to_close
    return [dimension, r.label, r.opened, r.closed, r.closed_in_time, _r(share.value),
            _r(share.low), _r(share.high), r.closed_late, r.open_overdue, r.breached,
            r.still_open, first.n, _r(first.value), _r(first.low), _r(first.high), close.n,
            _r(close.value), _r(close.low), _r(close.high)]  # fmt: skip


def _rows(report, ended, causes):
    rows = [_group_row("all", report.total)]
    rows += [_group_row("team", r) for r in report.teams]
    rows += [_group_row("assignee", r) for r in report.owners]
    pad = [None] * (len(COLUMNS) - 3)
    for label, value in (("resolved", ended.resolved), ("closed, no action", ended.no_action),
                         ("customer: solved", ended.solved),
                         ("customer: not solved", ended.not_solved),
                         ("asked, no answer", ended.no_answer),
                         ("closed, not asked", ended.not_asked)):  # fmt: skip
        rows.append(["outcome", label, value, *pad])
    rows += [["root cause", c.label, c.cases, *pad] for c in causes]
    return COLUMNS, rows


def _shown(columns, row):
    """A table row for the page: figures from fewer than MIN_N cases marked, never bare."""
    out = list(row)
    for name, base in _ESTIMATES.items():
        i, n = columns.index(name), row[columns.index(base)]
        if out[i] is not None and n < stats.MIN_N:
            out[i] = f"{fmt(out[i])} (too few)"
    return out


def table(ctx):
    return _rows(*_figures(ctx))


VIEW = View(
    key="loop",
    label="Closed loop",
    question="Do we call unhappy customers back in time, and what do we learn from them?",
    render=render,
    table=table,
)
