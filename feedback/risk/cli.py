"""`feedback churn recompute|list|backtest`."""

from __future__ import annotations

import json
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from feedback.errors import DomainError
from feedback.extensions import db
from feedback.risk import churn
from feedback.risk.backtests import record_backtest
from feedback.risk.queries import run_as_of, score_rows
from feedback.risk.services import recompute_and_route
from feedback.routing.rules import RuleError
from feedback.surveys.templates import TemplateError, load_templates

churn_cli = AppGroup("churn", help="Churn risk: scores, the list, the backtest.")

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _nps_templates() -> list[str]:
    try:
        return churn.nps_templates(load_templates(current_app.config["FEEDBACK_TEMPLATES_DIR"]))
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from None


def _day(value) -> date:
    return value.date() if value else date.today()


@churn_cli.command("recompute")
@click.option(
    "--as-of", type=_DATE, default=None, help="Score with data up to this day (default: today)."
)
@click.option("--horizon-days", type=int, default=churn.DEFAULT_HORIZON, show_default=True,
              help='"Churned": no order within this many days.')  # fmt: skip
def recompute(as_of, horizon_days):
    """Fit the model on the company's history and store every active customer's risk."""
    as_of_day = _day(as_of)
    if as_of_day > date.today():
        raise click.ClickException("--as-of cannot be in the future")
    try:
        run, opened = recompute_and_route(current_app.config, as_of=as_of_day,
                                          horizon_days=horizon_days)  # fmt: skip
        db.session.commit()
    except (DomainError, TemplateError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except RuleError as exc:
        db.session.rollback()
        raise click.ClickException("\n".join(exc.problems)) from None
    fit = run.fit
    how = (
        f"fitted on {fit['customers']} customers as of {fit['fitted_as_of']}, "
        f"{fit['churned']} of whom churned"
        if run.model == "fitted"
        else f"default weights ({fit['why_default']})"
    )
    click.echo(f"Churn risk as of {run.as_of.isoformat()}: {run.customer_count} active "
               f"customers scored; model {how}.")  # fmt: skip
    if opened is None:
        click.echo("No churn cases opened: the run is not as of today.")
    else:
        click.echo(f"{opened} churn cases opened by the churn_risk rules.")


@churn_cli.command("list")
@click.option(
    "--as-of", type=_DATE, default=None, help="The run on this day, or the latest before."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the riskiest N.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def list_scores(as_of, limit, as_json):
    """Every scored customer, highest risk first."""
    run = run_as_of(as_of.date() if as_of else None)
    if run is None:
        when = f" on or before {as_of.date().isoformat()}" if as_of else ""
        raise click.ClickException(f"no churn scores{when}; run `feedback churn recompute` first")
    rows = score_rows(run)[:limit]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"Churn risk as of {run.as_of.isoformat()} ({run.model} model), "
               f"{run.customer_count} customers:")  # fmt: skip
    for row in rows:
        owner = row["owner_email"] or "(no owner)"
        click.echo(f"{row['risk']:>4} %  {row['customer_external_id']:<12} "
                   f"{row['revenue_at_risk']:>14} at risk  {owner}")  # fmt: skip
        for reason in row["reasons"]:
            click.echo(f"         - {reason}")


@churn_cli.command("backtest")
@click.option("--as-of", type=_DATE, required=True, help="Score with data up to this day.")
@click.option("--horizon-days", type=int, default=churn.DEFAULT_HORIZON, show_default=True,
              help="Observe who churned in this many days after --as-of.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--store", is_flag=True, help="Keep the result for the dashboard.")
def backtest(as_of, horizon_days, as_json, store):
    """How well the score (and each signal alone) foresaw who churned after a past date."""
    try:
        if store:
            result = record_backtest(current_app.config, as_of=as_of.date(),
                                     horizon_days=horizon_days).result  # fmt: skip
            db.session.commit()
        else:
            result = churn.backtest(
                as_of.date(), horizon_days=horizon_days,
                base_currency=current_app.config["FEEDBACK_BASE_CURRENCY"],
                nps_template_keys=_nps_templates(), today=date.today(),
            )  # fmt: skip
    except (DomainError, TemplateError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.session.rollback()  # nothing else to keep (a stored result is committed)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"Backtest as of {result['as_of']}, horizon {horizon_days} days "
               f"({result['model']} model): {result['customers']} active customers, "
               f"{result['churned']} churned.")  # fmt: skip
    click.echo(f"{'signal':<14}{'AUC':>8}{'95 % interval':>16}{'top-decile lift':>18}")
    for name in churn.SIGNALS:
        auc, lift = result["auc"][name], result["lift_top_decile"][name]
        low, high = result["auc_ci95"][name]
        interval = f"{_fmt(low)}–{_fmt(high)}"
        click.echo(f"{name:<14}{_fmt(auc):>8}{interval:>16}{_fmt(lift):>18}")
    if store:
        click.echo("Stored: the dashboard's “Does NPS predict?” view shows it.")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
