"""View 5: revenue at risk. Detractors and customers with high churn risk, by owner and by
class, with amounts, the model's expected loss, and links to the At-risk list."""

from __future__ import annotations

from urllib.parse import urlencode

from dash import html

from dashboards import figures as F
from dashboards import stats
from dashboards.queries import revenue_risk as Q
from dashboards.queries.behaviour import UNCLASSIFIED
from dashboards.views import View
from dashboards.views.common import money, month_name, no_customers_text
from dashboards.widgets import empty_note, fmt, graph, number_table, stat_card

AT_RISK_PAGE = "/at-risk"
KIND_COLOURS = {"both": F.PURPLE, "high risk only": F.ORANGE, "detractor only": F.VERMILLION}
KIND_LABELS = {"both": "high risk and detractor", "high risk only": "high churn risk only",
               "detractor only": "detractor only"}  # fmt: skip
SHOWN_OWNERS = 15  # owners in the chart; the table has them all


def at_risk_url(filters, owner=None) -> str:
    """The At-risk list with the view's class and programme (and an owner's) filters."""
    args = [("class", c) for c in filters.classes]
    if filters.programme:
        args.append(("programme", filters.programme))
    owner = owner if owner is not None else filters.owner
    if owner is not None:
        args.append(("owner", str(owner)))
    return AT_RISK_PAGE + ("?" + urlencode(args) if args else "")


def _stacked(rows, labels, title, currency, *, horizontal: bool, height: int):
    data = []
    for kind in Q.KINDS:
        amounts = [r.amount(kind) for r in rows]
        if not any(r.count(kind) for r in rows):
            continue
        axis = {"y" if horizontal else "x": labels, "x" if horizontal else "y": amounts}
        data.append({
            "type": "bar", "name": KIND_LABELS[kind], "orientation": "h" if horizontal else "v",
            **axis, "marker": {"color": KIND_COLOURS[kind]}, "hoverinfo": "text",
            "hovertext": [f"{r.label}, {KIND_LABELS[kind]}: {money(r.amount(kind), currency)} "
                          f"from {r.count(kind):,} customer{'s' if r.count(kind) != 1 else ''}"
                          for r in rows],
        })  # fmt: skip
    money_axis = {"title": {"text": f"revenue of the last 12 months, {currency}"}}
    layout = F.layout(title, height=height, barmode="stack",
                      xaxis=money_axis if horizontal else {"type": "category"},
                      yaxis={"autorange": "reversed", "automargin": True} if horizontal
                      else money_axis)  # fmt: skip
    layout["title"].update(y=0.98, yanchor="top")
    layout["margin"] = {**layout["margin"], "t": 84}
    return F.figure(data, layout)


def _owner_figure(report: Q.RevenueRisk, currency: str):
    rows = [r for r in report.owners if r.at_risk_customers][:SHOWN_OWNERS]
    more = len([r for r in report.owners if r.at_risk_customers]) - len(rows)
    title = "Revenue at risk by owner" + (f" (the {len(rows)} largest)" if more > 0 else "")
    return _stacked(rows, [r.label for r in rows], title, currency, horizontal=True,
                    height=max(300, 150 + 30 * len(rows)))  # fmt: skip


def _class_figure(report: Q.RevenueRisk, currency: str):
    rows = report.classes
    labels = [f"{'no class' if r.key == UNCLASSIFIED else 'class ' + r.key}<br>"
              f"<span style='color:#556070'>{r.at_risk_customers:,} of {r.customers:,}</span>"
              for r in rows]  # fmt: skip
    return _stacked(rows, labels, "Revenue at risk by class", currency, horizontal=False,
                    height=max(300, 150 + 30 * min(len(report.owners), SHOWN_OWNERS)))  # fmt: skip


def _share_text(e: stats.Estimate) -> str:
    if e.value is None:
        return "—"
    text = f"{fmt(e.value)} % (95 % CI {fmt(e.low)} to {fmt(e.high)} %, n={e.n:,})"
    return text if e.enough else f"{text}, too few"


def _cards(report: Q.RevenueRisk, currency: str):
    t = report.total
    share, people = t.share_of_revenue, t.share_of_customers
    high = t.count("both") + t.count("high risk only")
    detractors = t.count("both") + t.count("detractor only")
    cards = [
        stat_card("Revenue at risk", money(t.at_risk, currency),
                  f"{fmt(share.value)} % of revenue · 95 % CI {fmt(share.low)} to "
                  f"{fmt(share.high)} %", muted=not share.enough),
        stat_card("Customers at risk", fmt(t.at_risk_customers),
                  f"{fmt(people.value)} % of {t.customers:,} · 95 % CI {fmt(people.low)} to "
                  f"{fmt(people.high)} %", muted=not people.enough),
        stat_card("Detractors", fmt(detractors),
                  f"{money(t.amount('both') + t.amount('detractor only'), currency)} revenue"),
    ]  # fmt: skip
    if report.run is None:
        cards.append(stat_card("High churn risk", "—", "no churn run yet", muted=True))
        return html.Div(cards, className="dash-cards")
    cards.append(stat_card(
        f"High churn risk (≥ {Q.HIGH_RISK} %)", fmt(high),
        f"{money(t.amount('both') + t.amount('high risk only'), currency)} revenue · "
        f"{t.count('both'):,} also detractors"))  # fmt: skip
    cards.append(stat_card(
        "Expected loss (model)", money(t.expected_loss, currency),
        f"churn probability × last year's revenue, {t.scored:,} customers scored"))  # fmt: skip
    return html.Div(cards, className="dash-cards")


def _owner_table(report: Q.RevenueRisk, filters, currency: str):
    columns = ["owner", "customers", "at_risk", f"both_{currency}", f"high_risk_only_{currency}",
               f"detractor_only_{currency}", f"at_risk_{currency}", "share_of_revenue",
               f"expected_loss_{currency}"]  # fmt: skip
    rows = []
    for r in report.owners:
        link = html.A(r.label, href=at_risk_url(filters, owner=r.key),
                      title=f"The At-risk list of {r.label}")  # fmt: skip
        rows.append([link, r.customers, r.at_risk_customers,
                     *[money(r.amount(k)) for k in Q.KINDS], money(r.at_risk),
                     _share_text(r.share_of_revenue),
                     money(r.expected_loss) if report.run else "—"])  # fmt: skip
    return number_table(columns, rows)


def render(ctx):
    report = Q.revenue_risk(ctx.conn, ctx.filters, tz=ctx.tz)
    currency = ctx.base_currency
    if not report.total.customers:
        return [empty_note(no_customers_text(ctx.conn, report.month))]
    run = (f"churn risk as of {report.run.as_of:%-d %b %Y}" if report.run
           else "no churn run yet")  # fmt: skip
    out = [html.P([f"As of {month_name(report.month)}, {run}.",
                   html.A("Open the At-risk list", href=at_risk_url(ctx.filters))],
                  className="risk-asof")]  # fmt: skip
    if report.run is None:
        out.append(html.Div("There is no churn run on or before the period's last day, so only "
                            "detractors are shown. Run `feedback churn recompute` to score "
                            "the customers.", className="flash flash-warning"))  # fmt: skip
    out.append(_cards(report, currency))
    if report.total.at_risk_customers:
        out.append(html.Div([graph("risk-owners", _owner_figure(report, currency)),
                             graph("risk-classes", _class_figure(report, currency))],
                            className="dash-grid"))  # fmt: skip
    else:
        out.append(empty_note("No customer here is a detractor or has a high churn risk."))
    out.append(html.H3("By owner: open each owner's At-risk list", className="risk-heading"))
    out.append(_owner_table(report, ctx.filters, currency))
    columns, rows = _rows(report)
    out.append(html.Details([html.Summary("The figures behind the charts"),
                             number_table(columns, rows, numeric_from=2)],
                            className="dash-details"))  # fmt: skip
    out.append(html.P(_footnote(ctx, report, currency), className="dash-footnote"))
    return out


def _footnote(ctx, report: Q.RevenueRisk, currency: str) -> str:
    return (
        f"At risk: a churn risk of {Q.HIGH_RISK} % or more in the churn run of the period's "
        "last day or before it (the staff pages' “high” level), or a detractor (newest NPS "
        "answer within 24 months a 0–6, and not silent in the waves of the last 12 months; "
        "the same groups as Attitude vs behaviour). Amounts are the revenue of the last 12 "
        f"months in {currency} as of {month_name(report.month)}, from the monthly customer "
        "facts, over customers who bought in the 24 months up to then. Expected loss is the "
        "model's churn probability times that revenue, summed over scored customers: what "
        "the model expects to lose if nothing is done, not a forecast of revenue. Shares "
        "have 95 % intervals (revenue: ratio estimator; customers: Wilson); below "
        f"{stats.MIN_N} customers they are marked too few. The survey and wave filters do "
        "not apply. The At-risk list shows the newest churn run ranked by revenue at risk, "
        "with the class, programme and owner filters carried over (it has no team filter), "
        "and counts the run's own copy of the revenue, so its sums can differ a little."
    )


COLUMNS = ["dimension", "group", "customers", "revenue_12m", "at_risk_customers",
           "at_risk_revenue", "high_and_detractor_customers", "high_and_detractor_revenue",
           "high_risk_only_customers", "high_risk_only_revenue", "detractor_only_customers",
           "detractor_only_revenue", "share_of_revenue_pct", "share_ci_low", "share_ci_high",
           "share_of_customers_pct", "customers_ci_low", "customers_ci_high", "scored",
           "expected_loss"]  # fmt: skip


def _r(value, places=1):
    return None if value is None else round(value, places)


def _row(dimension: str, r: Q.RiskRow, scored: bool) -> list:
    s, c = r.share_of_revenue, r.share_of_customers
    kinds = []
    for kind in Q.KINDS:
        kinds += [r.count(kind), _r(r.amount(kind), 2)]
    return [dimension, r.label, r.customers, _r(r.revenue, 2), r.at_risk_customers,
            _r(r.at_risk, 2), *kinds, _r(s.value), _r(s.low), _r(s.high), _r(c.value),
            _r(c.low), _r(c.high), r.scored if scored else None,
            _r(r.expected_loss, 2) if scored else None]  # fmt: skip


def _rows(report: Q.RevenueRisk):
    scored = report.run is not None
    rows = [_row("all", report.total, scored)]
    rows += [_row("owner", r, scored) for r in report.owners]
    rows += [_row("class", r, scored) for r in report.classes]
    return COLUMNS, rows


def table(ctx):
    return _rows(Q.revenue_risk(ctx.conn, ctx.filters, tz=ctx.tz))


VIEW = View(
    key="risk",
    label="Revenue at risk",
    question="Where is the money at risk: unhappy customers and likely churners, by owner?",
    render=render,
    table=table,
    survey_filtered=False,
)
