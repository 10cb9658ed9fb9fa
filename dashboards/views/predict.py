"""View 3: does NPS predict behaviour here? Churn and revenue change in the 6 and 12 months
after a month, by what customers had said by then (score band, silence, never asked), with
95 % intervals; and the newest stored churn backtest (the combined score against single
signals)."""

from __future__ import annotations

from datetime import timedelta

from dash import html

from dashboards import figures as F
from dashboards import stats
from dashboards.queries import predict as Q
from dashboards.views import View
from dashboards.widgets import empty_note, fmt, graph, number_table, stat_card
from feedback.risk.churn import DEFAULT_HORIZON

GROUP_COLOURS = {**F.BAND_COLOURS, "non_responder": F.BLACK, "not_asked": F.GREY}
HORIZON_COLOURS = {6: F.SKY, 12: F.BLUE}
TOO_FEW = f"fewer than {stats.MIN_N}: too few to trust"


def _up(e: stats.Estimate):
    return None if e.high is None or e.value is None else e.high - e.value


def _down(e: stats.Estimate):
    return None if e.low is None or e.value is None else e.value - e.low


def _ci(e: stats.Estimate, unit: str = " %", places: int = 1) -> str:
    return f"95 % CI {fmt(e.low, places)} to {fmt(e.high, places)}{unit}, n={e.n:,}"


def _month(day) -> str:
    return f"{day:%B %Y}"


# --- charts --------------------------------------------------------------------------------


def _ticks(groups):
    out = []
    for g in groups:
        flag = " · too few" if g.customers < stats.MIN_N else ""
        out.append(f"{g.label}<br><span style='color:#556070'>n={g.customers:,}{flag}</span>")
    return out


def _bars(outcomes: Q.Outcomes, horizons, pick, hover):
    """One bar trace per horizon over the groups; groups below MIN_N in FAINT."""
    groups = [g for g in outcomes.groups if g.customers]
    ticks, data = _ticks(groups), []
    for h in horizons:
        es = [pick(g, h) for g in groups]
        data.append({
            "type": "bar", "name": f"{h} months", "x": ticks, "y": [e.value for e in es],
            "marker": {"color": [HORIZON_COLOURS[h] if e.enough else F.FAINT for e in es]},
            "error_y": {"type": "data", "symmetric": False, "color": F.INK, "thickness": 1,
                        "array": [_up(e) for e in es], "arrayminus": [_down(e) for e in es]},
            "hovertext": [hover(g, h, e) + ("" if e.enough else f" · {TOO_FEW}")
                          for g, e in zip(groups, es, strict=True)],
            "hoverinfo": "text",
        })  # fmt: skip
    return data


def _churn_figure(outcomes: Q.Outcomes):
    def hover(g, h, e):
        return (f"{g.label}: {fmt(e.value)} % placed no order in the {h} months after "
                f"{_month(outcomes.anchor)} ({_ci(e)})")  # fmt: skip

    data = _bars(outcomes, outcomes.horizons, lambda g, h: g.churn[h], hover)
    top = max([e.high or 0 for g in outcomes.groups for e in g.churn.values()] + [10])
    months = " / ".join(str(h) for h in outcomes.horizons)
    return F.figure(data, _stacked_title(F.layout(
        f"Churned: no order in the {months} months after {_month(outcomes.anchor)}",
        height=380, barmode="group", xaxis={"type": "category"},
        yaxis={"range": [0, min(100, top * 1.15)], "title": {"text": "% of customers"}},
        margin={"l": 56, "r": 16, "b": 80},
    )))  # fmt: skip


def _revenue_figure(outcomes: Q.Outcomes, currency: str):
    def hover(g, h, e):
        pct = g.change_pct.get(h)
        share = "" if pct is None else f"; {fmt(pct)} % of the group's 12-month revenue before"
        return (f"{g.label}, the {h} months after against the same months a year before: "
                f"{fmt(e.value, 0)} {currency} per customer "
                f"({_ci(e, f' {currency}', 0)}){share}")  # fmt: skip

    data = _bars(outcomes, outcomes.revenue_horizons, lambda g, h: g.change[h], hover)
    return F.figure(data, _stacked_title(F.layout(
        "Revenue per customer: change against the same months a year before",
        height=380, barmode="group", xaxis={"type": "category"},
        yaxis={"title": {"text": f"{currency} per customer"}, "zeroline": True},
        margin={"l": 72, "r": 16, "b": 80},
    )))  # fmt: skip


def _stacked_title(layout: dict) -> dict:
    """Title above the legend (side by side they collide in a half-width chart)."""
    layout["title"].update(y=0.98, yanchor="top")
    layout["margin"] = {**layout["margin"], "t": 84}
    return layout


def _backtest_figure(b: Q.Backtest):
    signals = list(reversed(b.signals))  # the combined score on top
    labels = [s.label for s in signals]
    data = [{
        "type": "bar", "orientation": "h", "y": labels, "x": [s.auc for s in signals],
        "marker": {"color": [F.BLUE if s.signal == "combined" else F.SKY for s in signals]},
        "error_x": {"type": "data", "symmetric": False, "color": F.INK, "thickness": 1,
                    "array": [None if s.auc is None or s.auc_high is None else s.auc_high - s.auc
                              for s in signals],
                    "arrayminus": [None if s.auc is None or s.auc_low is None
                                   else s.auc - s.auc_low for s in signals]},
        "hovertext": [f"{s.label}: AUC {fmt(s.auc, 3)} (95 % CI {fmt(s.auc_low, 3)} to "
                      f"{fmt(s.auc_high, 3)}), top-decile lift {fmt(s.lift, 2)}"
                      for s in signals],
        "hoverinfo": "text", "showlegend": False,
    }]  # fmt: skip
    coin = {"type": "line", "xref": "x", "yref": "paper", "x0": 0.5, "x1": 0.5, "y0": 0,
            "y1": 1, "line": {"color": F.VERMILLION, "dash": "dash", "width": 1.5}}  # fmt: skip
    note = {"xref": "x", "yref": "paper", "x": 0.5, "y": 1, "yanchor": "bottom",
            "text": "0.5: a coin toss", "showarrow": False,
            "font": {"color": F.VERMILLION, "size": 12}}  # fmt: skip
    return F.figure(data, F.layout(
        "How well each signal foresaw churn (AUC)", height=120 + 44 * len(signals),
        xaxis={"range": [0, 1], "title": {"text": "AUC (1: foresaw every churner)"}},
        yaxis={"automargin": True}, shapes=[coin], annotations=[note],
        margin={"l": 16, "r": 24, "t": 64, "b": 56},
    ))  # fmt: skip


# --- the view ------------------------------------------------------------------------------


def _horizon(outcomes: Q.Outcomes) -> int:
    return outcomes.horizons[-1]


def _churn_card(g: Q.GroupOutcome, h: int):
    title = f"{g.label.capitalize()}: no order in {h} months"
    e = g.churn.get(h, stats.EMPTY)
    if not e.n:
        return stat_card(title, "—", "none among the active customers", muted=True)
    if not e.enough:
        return stat_card(title, f"{fmt(e.value)} %", f"only {e.n} customers: too few",
                         muted=True)  # fmt: skip
    return stat_card(title, f"{fmt(e.value)} %", _ci(e))


def _revenue_card(outcomes: Q.Outcomes, h: int):
    """Promoters' revenue change against detractors', in % of each group's revenue before."""

    def change(key):
        g = outcomes.group(key)
        pct, e = g.change_pct.get(h), g.change.get(h, stats.EMPTY)
        if pct is None or not e.n:
            return None, True
        return f"{'+' if pct > 0 else ''}{fmt(pct)} %", e.enough

    title = f"Revenue in {h} months: promoters · detractors"
    if h not in outcomes.revenue_horizons:
        return stat_card(title, "—", "no revenue history before the month to compare with",
                         muted=True)  # fmt: skip
    (p, p_ok), (d, d_ok) = change("promoter"), change("detractor")
    n, _ = change("non_responder")
    detail = "% of the 12 months' revenue before" + (f"; non-responders {n}" if n else "")
    if not (p_ok and d_ok):
        detail += " · too few to trust"
    value = f"{p or '—'} · {d or '—'}" if p or d else "—"
    return stat_card(title, value, detail, muted=not (p_ok and d_ok))


def headline(outcomes: Q.Outcomes) -> str:
    """The view's answer in one sentence, computed: detractors' churn against promoters'."""
    h = _horizon(outcomes)
    d, p = outcomes.group("detractor"), outcomes.group("promoter")
    if not d.customers or not p.customers:
        missing = "detractors" if not d.customers else "promoters"
        return (f"No {missing} among the customers active in {_month(outcomes.anchor)}: "
                "nothing to compare.")  # fmt: skip

    def said(g):
        e = g.churn[h]
        return f"{fmt(e.value)} % ({fmt(e.low)}–{fmt(e.high)} %, n={e.n:,})"

    sentence = (f"Of the customers active in {_month(outcomes.anchor)}, detractors placed "
                f"no order in the following {h} months at {said(d)}, promoters at "
                f"{said(p)}. ")  # fmt: skip
    z, significant = Q.churn_differs(d, p, h)
    if significant is None:
        return sentence + (f"Too few customers (under {stats.MIN_N} in a group) to say whether "
                           "the difference is more than chance.")  # fmt: skip
    verdict = "larger" if significant else "not larger"
    return sentence + (f"The difference is {verdict} than chance would explain "
                       f"(two-proportion z test, z = {fmt(z, 2)}).")  # fmt: skip


def _anchor_note(outcomes: Q.Outcomes) -> str:
    last = outcomes.last_month
    text = (f"Customers active in {_month(outcomes.anchor)}, grouped by what they had said by "
            f"then, and followed to the end of {_month(last)}.")  # fmt: skip
    if outcomes.horizons == (6,):
        text += (f" The period asks for {_month(outcomes.wanted)}, but the customer facts "
                 f"start in {_month(outcomes.first_month)}: this is the latest month with 6 "
                 "months of outcome, so there are no 12-month figures yet.")  # fmt: skip
    return text


def _outcome_section(ctx, outcomes: Q.Outcomes) -> list:
    if outcomes.anchor is None:
        if outcomes.first_month is None:
            return [empty_note("There are no customer facts yet: the refresh_reporting job "
                               "builds them (or `feedback reporting rebuild`).")]  # fmt: skip
        return [empty_note(f"The customer facts start in {_month(outcomes.first_month)}: "
                           "at least 7 months of history are needed before anything can be "
                           "said about what followed a score.")]  # fmt: skip
    if not outcomes.customers:
        return [empty_note(f"No customers matching these filters were active in "
                           f"{_month(outcomes.anchor)}.")]  # fmt: skip
    h = _horizon(outcomes)
    cards = [_churn_card(outcomes.group(k), h) for k in ("detractor", "promoter", "non_responder")]
    charts = [graph("predict-churn", _churn_figure(outcomes))]
    if outcomes.revenue_horizons:
        charts.append(graph("predict-revenue", _revenue_figure(outcomes, ctx.base_currency)))
    else:
        charts.append(empty_note(
            f"The customer facts start in {_month(outcomes.first_month)}: the revenue of the "
            f"months before {_month(outcomes.anchor)} is not all known, so revenue before and "
            "after cannot be compared yet."))  # fmt: skip
    return [
        html.P(headline(outcomes), className="predict-headline"),
        html.P(_anchor_note(outcomes), className="dash-freshness"),
        html.Div([*cards, _revenue_card(outcomes, h)], className="dash-cards"),
        html.Div(charts, className="dash-grid"),
    ]


def _backtest_section(ctx, b: Q.Backtest | None) -> list:
    title = html.H3("Does the churn score foresee churn? The newest backtest",
                    className="predict-subhead")  # fmt: skip
    if b is None:
        as_of = ctx.today - timedelta(days=DEFAULT_HORIZON)
        return [title, empty_note(
            "No backtest is stored yet. The weekly churn job stores one (as of "
            f"{DEFAULT_HORIZON} days ago, so the outcomes are known); to make one now, run "
            f"`feedback churn backtest --as-of {as_of.isoformat()} --store`."
        )]  # fmt: skip
    rate = stats.proportion(b.churned, b.customers)
    when = (f"Scored with what was known on {b.as_of:%-d %B %Y}, then watched for "
            f"{b.horizon_days} days: {b.customers:,} active customers, {b.churned:,} of them "
            f"({fmt(rate.value)} %) placed no order. Computed {b.computed_at:%-d %B %Y %H:%M} "
            f"UTC, {b.model} model; over all customers (the filters do not apply).")  # fmt: skip
    columns, rows = _backtest_rows(b)
    return [title, html.P(when, className="dash-freshness"), html.Div([
        graph("predict-backtest", _backtest_figure(b)),
        html.Div(number_table(columns, rows), className="predict-backtest-table"),
    ], className="dash-grid")]  # fmt: skip


def render(ctx):
    outcomes = Q.outcomes_after(ctx.conn, ctx.filters, tz=ctx.tz, today=ctx.today)
    backtest = Q.latest_backtest(ctx.conn)
    out = _outcome_section(ctx, outcomes)
    out += _backtest_section(ctx, backtest)
    if outcomes.anchor is not None and outcomes.customers:
        columns, rows = _outcome_rows(outcomes)
        out.append(html.Details([
            html.Summary("The figures behind the charts"),
            number_table(columns, [_shown(columns, r) for r in rows]),
        ], className="dash-details"))  # fmt: skip
    out.append(html.P(_footnote(ctx), className="dash-footnote"))
    return out


def _footnote(ctx) -> str:
    return (
        "Customers counted: those active in the month (revenue in the 12 months up to it, or "
        "an order within 365 days), in the customer filters; the month is the period's last "
        "complete month minus 12. Group, first match wins: the newest NPS answer if given in "
        "the 12 months up to the month (promoter 9–10, passive 7–8, detractor 0–6); "
        "non-responder if invited in a wave closed in those 12 months and answered none; an "
        "NPS answer from the 12 months before those; otherwise not asked. The survey and "
        "wave filters do not apply here: the group comes from the newest answer to any NPS "
        "survey. Churned: no order in the 6 (or 12) months after the month; a customer who "
        "paused and came back counts in the 6-month figure only, so the 12-month share can "
        "be the smaller. Revenue change: the revenue of the 6 (12) months after the month "
        "against that of the same calendar months a year earlier (so seasons compare with "
        f"themselves), per customer in {ctx.base_currency}, and the group's total change in % "
        "of its revenue in the 12 months up to the month. Bars are 95 % "
        "intervals (shares: Wilson; means: ± 1.96 standard errors); groups with fewer than "
        f"{stats.MIN_N} customers are grey. The difference between detractors and promoters "
        "is tested with a two-proportion z test (|z| > 1.96). Association, not cause: a "
        "detractor may leave for the reason it gave the low score. AUC: the chance that a "
        "churner got a higher risk than a customer who stayed (0.5: a coin toss), with "
        "Hanley–McNeil 95 % intervals; top-decile lift: the churn rate among the riskiest "
        "tenth over the overall rate. Figures come from the monthly customer facts, rebuilt "
        "nightly and refreshed every 15 minutes; the backtest from the weekly churn job."
    )


OUTCOME_COLUMNS = ["group", "customers", "churn_6m_pct", "churn_6m_ci_low", "churn_6m_ci_high",
                   "churn_12m_pct", "churn_12m_ci_low", "churn_12m_ci_high",
                   "revenue_change_6m_per_customer", "change_6m_ci_low", "change_6m_ci_high",
                   "revenue_change_6m_pct", "revenue_change_12m_per_customer",
                   "change_12m_ci_low", "change_12m_ci_high",
                   "revenue_change_12m_pct"]  # fmt: skip


def _r(value, places=1):
    return None if value is None else round(value, places)


def _outcome_rows(outcomes: Q.Outcomes):
    rows = []
    for g in outcomes.groups:
        row = [g.label, g.customers]
        for h in Q.HORIZONS:
            e = g.churn.get(h, stats.EMPTY)
            row += [_r(e.value), _r(e.low), _r(e.high)]
        for h in Q.HORIZONS:
            e = g.change.get(h, stats.EMPTY)
            row += [_r(e.value, 0), _r(e.low, 0), _r(e.high, 0), _r(g.change_pct.get(h))]
        rows.append(row)
    return OUTCOME_COLUMNS, rows


def _shown(columns, row):
    """A table row for the page: figures from fewer than MIN_N customers marked."""
    out = list(row)
    if row[1] < stats.MIN_N:
        for i in (2, 5, 8, 12):
            if out[i] is not None:
                out[i] = f"{fmt(out[i])} (too few)"
    return out


def _backtest_rows(b: Q.Backtest):
    columns = ["signal", "AUC", "AUC_95_%_interval", "top-decile_lift", "customers", "churned"]
    rows = [[s.label, fmt(s.auc, 3), f"{fmt(s.auc_low, 3)} – {fmt(s.auc_high, 3)}",
             fmt(s.lift, 2), b.customers, b.churned] for s in b.signals]  # fmt: skip
    return columns, rows


def table(ctx):
    """Long format: one row per figure, the anchor month and the backtest's date in each."""
    outcomes = Q.outcomes_after(ctx.conn, ctx.filters, tz=ctx.tz, today=ctx.today)
    b = Q.latest_backtest(ctx.conn)
    columns = ["section", "as_of", "item", "measure", "months", "value", "ci_low", "ci_high",
               "n"]  # fmt: skip
    rows = []
    anchor = outcomes.anchor.isoformat()[:7] if outcomes.anchor else None
    for g in outcomes.groups if outcomes.anchor else []:
        rows.append(["outcome", anchor, g.group, "customers", None, g.customers, None, None,
                     g.customers])  # fmt: skip
        for h in outcomes.horizons:
            figures = [("churn_pct", g.churn[h], 1)]
            if h in outcomes.revenue_horizons:
                figures.append(("revenue_change_per_customer", g.change[h], 2))
            for measure, e, places in figures:
                rows.append(["outcome", anchor, g.group, measure, h, _r(e.value, places),
                             _r(e.low, places), _r(e.high, places), e.n])  # fmt: skip
            if h in outcomes.revenue_horizons:
                rows.append(["outcome", anchor, g.group, "revenue_change_pct", h,
                             _r(g.change_pct[h]), None, None, g.customers])  # fmt: skip
    if b is not None:
        for s in b.signals:
            rows.append(["backtest", b.as_of.isoformat(), s.signal, "auc", None, s.auc,
                         s.auc_low, s.auc_high, b.customers])  # fmt: skip
            rows.append(["backtest", b.as_of.isoformat(), s.signal, "top_decile_lift", None,
                         s.lift, None, None, b.customers])  # fmt: skip
    return columns, rows


VIEW = View(
    key="predict",
    label="Does NPS predict?",
    question="Do detractors and silent customers really buy less and leave more here?",
    render=render,
    table=table,
    survey_filtered=False,
)
