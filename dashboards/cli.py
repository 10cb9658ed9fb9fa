"""`feedback report nps`: the numbers behind the dashboard's first view, for scripts and
checks. The same query functions as the dashboard, so the two never disagree."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from dashboards.context import local_today, make_context
from dashboards.filters import Filters, default_filters
from dashboards.periods import GRAINS
from dashboards.queries.trend import nps_by_period
from dashboards.widgets import fmt
from feedback.customers.models import ABC_CLASSES, PROGRAMMES

report_cli = AppGroup("report", help="Figures from the management dashboard.")

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _classes(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    picked = []
    for part in value.split(","):
        part = part.strip().upper()
        if part not in ABC_CLASSES:
            raise click.BadParameter(
                f"unknown class {part or '(empty)'!r}; use {', '.join(ABC_CLASSES)}",
                param_hint="--class",
            )
        if part not in picked:
            picked.append(part)
    return tuple(sorted(picked))


@report_cli.command("nps")
@click.option("--period", "grain", type=click.Choice(GRAINS), default="month", show_default=True,
              help="One row per month or per quarter.")  # fmt: skip
@click.option("--from", "start", type=_DATE, default=None,
              help="First day (default: the first of the month a year ago).")  # fmt: skip
@click.option("--to", "end", type=_DATE, default=None, help="Last day (default: today).")
@click.option("--class", "classes", default=None, help="ABC classes, e.g. A,B.")
@click.option("--programme", type=click.Choice(PROGRAMMES), default=None,
              help="Grow or Retain customers only.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows.")
def report_nps(grain, start, end, classes, programme, as_json):
    """NPS per period with its 95 % interval, n, and whether the change from the period
    before is significant. Periods are by answer date in FEEDBACK_TIMEZONE."""
    default = default_filters(local_today())
    first = start.date() if start else default.start
    last = end.date() if end else default.end
    if first > last:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    filters = Filters(start=first, end=last, grain=grain, classes=_classes(classes),
                      programme=programme)  # fmt: skip
    ctx = make_context(filters)
    points = nps_by_period(ctx.conn, filters, nps_templates=ctx.nps_templates, tz=ctx.tz)
    if as_json:
        click.echo(json.dumps([p.as_json() for p in points], indent=2))
        return
    click.echo(f"{'period':<9} {'n':>7} {'prom':>6} {'pass':>6} {'detr':>6} {'NPS':>7} "
               f"{'95 % CI':>16}  change")  # fmt: skip
    for p in points:
        e = p.estimate
        ci = f"{fmt(e.low)} to {fmt(e.high)}" if e.n else "—"
        change = {True: "significant", False: "not significant", None: ""}[p.change_significant]
        note = "  (too few answers)" if 0 < e.n < 30 else ""
        click.echo(f"{p.period:<9} {e.n:>7,} {p.promoters:>6,} {p.passives:>6,} "
                   f"{p.detractors:>6,} {fmt(e.value):>7} {ci:>16}  {change}{note}")  # fmt: skip
