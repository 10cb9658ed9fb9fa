"""Churn scores and the NPS report as the API reads them.

Churn scores are one stored run's (feedback.risk), highest risk first; the cursor keeps the
run it started in, so a run computed while a client pages does not mix two runs. The NPS
report is the dashboard's first view through the same query function as `feedback report
nps --json` (dashboards.queries.trend.nps_by_period), so the three never disagree.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select

from dashboards.context import make_context
from dashboards.filters import Filters
from dashboards.queries.trend import nps_by_period
from feedback.api.schemas import known_id
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.segments import latest_run_id
from feedback.errors import NotFound
from feedback.extensions import db
from feedback.risk import risk_level
from feedback.risk.models import ChurnRun, ChurnScore
from feedback.risk.queries import run_as_of

risk_band = risk_level  # the staff pages' badges: high, medium, low


def churn_run(*, run_id: int | None, as_of: date | None) -> ChurnRun | None:
    """The run asked for (by id, or the latest on or before `as_of`), else the newest one;
    None only when there is no run at all and none was asked for."""
    if run_id is not None:
        run = db.session.get(ChurnRun, known_id(run_id, "churn run"))
        if run is None:
            raise NotFound(f"There is no churn run {run_id}.")
        return run
    run = run_as_of(as_of)
    if run is None and as_of is not None:
        raise NotFound(f"There is no churn run on or before {as_of.isoformat()}.")
    return run


def run_summary(run: ChurnRun | None) -> dict | None:
    if run is None:
        return None
    return {"id": run.id, "as_of": run.as_of, "computed_at": run.computed_at,
            "model": run.model, "horizon_days": run.horizon_days,
            "customer_count": run.customer_count}  # fmt: skip


def list_churn_scores(run: ChurnRun, *, limit: int, key: list | None,
                      classes: list[str], min_risk: int | None) -> list[dict]:  # fmt: skip
    """A page of the run's scores by risk, highest first (ties by customer); each with
    the customer's class and programme in the latest segment run."""
    segment = and_(CustomerSegment.customer_id == ChurnScore.customer_id,
                   CustomerSegment.run_id == latest_run_id())  # fmt: skip
    query = (
        select(
            ChurnScore.customer_id, Customer.external_id.label("customer_external_id"),
            Customer.name.label("customer_name"), ChurnScore.risk, ChurnScore.reasons,
            ChurnScore.reason_keys, ChurnScore.revenue_12m, ChurnScore.revenue_at_risk,
            CustomerSegment.abc_class, CustomerSegment.programme,
        )
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .outerjoin(CustomerSegment, segment)
        .where(ChurnScore.run_id == run.id)
    )  # fmt: skip
    if key is not None:
        risk, customer_id = int(key[1]), int(key[2])
        query = query.where(or_(ChurnScore.risk < risk,
                                and_(ChurnScore.risk == risk,
                                     ChurnScore.customer_id > customer_id)))  # fmt: skip
    if classes:
        query = query.where(CustomerSegment.abc_class.in_(classes))
    if min_risk is not None:
        query = query.where(ChurnScore.risk >= min_risk)
    query = query.order_by(ChurnScore.risk.desc(), ChurnScore.customer_id).limit(limit + 1)
    rows = []
    for row in db.session.execute(query).mappings():
        row = dict(row)
        row["run_id"] = run.id
        row["band"] = risk_band(row["risk"])
        row["reasons"] = list(row["reasons"] or [])
        row["reason_keys"] = [k for k in row["reason_keys"].split(",") if k]
        rows.append(row)
    return rows


def churn_key(row: dict) -> list:
    return [row["run_id"], row["risk"], row["customer_id"]]


def nps_report(filters: Filters) -> list[dict]:
    """`feedback report nps --json`'s rows for these filters."""
    ctx = make_context(filters)
    points = nps_by_period(ctx.conn, filters, nps_templates=ctx.nps_templates, tz=ctx.tz)
    return [point.as_json() for point in points]
