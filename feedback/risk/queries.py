"""Reading stored churn runs: the list behind `churn list` and the At-risk page, and one
customer's risk over time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import aliased

from feedback.auth.models import User
from feedback.customers.models import Customer, CustomerSegment
from feedback.customers.queries import Page
from feedback.customers.segments import latest_run_id
from feedback.extensions import db
from feedback.list_filters import NO_OWNER, segment_conditions  # noqa: F401  (pages read NO_OWNER here)
from feedback.responses.models import Response
from feedback.risk.models import ChurnRun, ChurnScore, WaveOutcome
from feedback.surveys.models import Survey, Wave


def run_as_of(as_of: date | None = None) -> ChurnRun | None:
    """The run on `as_of`, else the latest before it (or the latest of all)."""
    stmt = select(ChurnRun).order_by(ChurnRun.as_of.desc()).limit(1)
    if as_of is not None:
        stmt = stmt.where(ChurnRun.as_of <= as_of)
    return db.session.scalar(stmt)


def score_rows(run: ChurnRun) -> list[dict]:
    """Every scored customer of a run, highest risk first (then most revenue at risk)."""
    rows = db.session.execute(
        select(
            Customer.external_id, Customer.name, ChurnScore.risk, ChurnScore.reasons,
            ChurnScore.revenue_12m, ChurnScore.revenue_at_risk, User.email,
        )
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(ChurnScore.run_id == run.id)
        .order_by(ChurnScore.risk.desc(), ChurnScore.revenue_at_risk.desc(), Customer.external_id)
    )  # fmt: skip
    return [
        {
            "customer_external_id": external_id,
            "customer_name": name,
            "risk": risk,
            "reasons": list(reasons or []),
            "revenue_12m": f"{revenue:.2f}",
            "revenue_at_risk": f"{at_risk:.2f}",
            "owner_email": owner_email,
        }
        for external_id, name, risk, reasons, revenue, at_risk, owner_email in rows
    ]


def latest_score(customer_id: int) -> tuple[ChurnRun, ChurnScore] | None:
    """The customer's score in the newest run, if that run scored it."""
    run = run_as_of()
    if run is None:
        return None
    score = db.session.get(ChurnScore, (run.id, customer_id))
    return (run, score) if score is not None else None


def risk_history(customer_id: int, limit: int = 26) -> list[tuple[date, int, list[str]]]:
    """(as of, risk, reasons) of the customer's latest runs, oldest first."""
    rows = db.session.execute(
        select(ChurnRun.as_of, ChurnScore.risk, ChurnScore.reasons)
        .join(ChurnRun, ChurnRun.id == ChurnScore.run_id)
        .where(ChurnScore.customer_id == customer_id)
        .order_by(ChurnRun.as_of.desc())
        .limit(limit)
    ).all()
    return [(as_of, risk, list(reasons or [])) for as_of, risk, reasons in reversed(rows)]


# --- the At-risk page ---------------------------------------------------------------------

# Reason keys stored with each score, as the page's reason filter names them.
REASON_LABELS = {
    "recency": "No recent order",
    "orders_season": "Fewer orders than a year ago",
    "revenue_year": "Less revenue than a year ago",
    "trend": "Revenue trending down",
    "credit_share": "Many credits",
    "detractor": "Detractor answer",
    "score_drop": "Score dropped",
    "silence": "Not answering surveys",
    "open_cases": "Open cases",
    "breached_cases": "Cases past deadline",
}


@dataclass
class AtRiskFilters:
    classes: list[str] = field(default_factory=list)
    programme: str | None = None
    owner: int | str | None = None  # a user id, NO_OWNER, or None for anyone
    reason: str | None = None  # a key of REASON_LABELS


@dataclass
class AtRiskSummary:
    count: int
    revenue_12m: Decimal
    revenue_at_risk: Decimal


def visible_to(viewer: User):
    """Which customers a person may see on risk pages: managers and admins all; agents the
    customers they own and those owned by their team."""
    if viewer.has_role("admin", "manager"):
        return true()
    own = Customer.owner_id == viewer.id
    if viewer.team_id is None:
        return own
    team_owners = select(User.id).where(User.team_id == viewer.team_id)
    return or_(own, Customer.owner_id.in_(team_owners))


def _at_risk_where(run: ChurnRun, filters: AtRiskFilters, viewer: User) -> list:
    where = [ChurnScore.run_id == run.id, visible_to(viewer)]
    where += segment_conditions(filters)
    if filters.reason:
        where.append(ChurnScore.reason_keys.contains(f",{filters.reason},"))
    return where


def _at_risk_from(stmt):
    segment = and_(CustomerSegment.customer_id == ChurnScore.customer_id,
                   CustomerSegment.run_id == latest_run_id())  # fmt: skip
    return (
        stmt.select_from(ChurnScore)
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .outerjoin(CustomerSegment, segment)
    )


def at_risk_summary(run: ChurnRun, filters: AtRiskFilters, viewer: User) -> AtRiskSummary:
    count, revenue, at_risk = db.session.execute(
        _at_risk_from(select(func.count(), func.coalesce(func.sum(ChurnScore.revenue_12m), 0),
                             func.coalesce(func.sum(ChurnScore.revenue_at_risk), 0)))
        .where(*_at_risk_where(run, filters, viewer))
    ).one()  # fmt: skip
    return AtRiskSummary(count, Decimal(str(revenue)), Decimal(str(at_risk)))


def at_risk_page(
    run: ChurnRun, filters: AtRiskFilters, viewer: User, *, page: int, per_page: int, total: int
) -> Page:
    """Customers ranked by revenue at risk (12-month revenue x risk), with their reasons."""
    page = min(max(page, 1), max(1, -(-total // per_page)))
    owner = aliased(User)
    rows = db.session.execute(
        _at_risk_from(select(
            Customer.external_id, Customer.name, ChurnScore.risk, ChurnScore.reasons,
            ChurnScore.revenue_12m, ChurnScore.revenue_at_risk, CustomerSegment.abc_class,
            CustomerSegment.programme,
            func.coalesce(func.nullif(owner.name, ""), owner.email).label("owner_name"),
        ))
        .outerjoin(owner, owner.id == Customer.owner_id)
        .where(*_at_risk_where(run, filters, viewer))
        .order_by(ChurnScore.revenue_at_risk.desc(), ChurnScore.risk.desc(), Customer.external_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()  # fmt: skip
    return Page(list(rows), page, per_page, total)


# --- one customer -------------------------------------------------------------------------

OUTCOME_WORDS = {
    "answered": "Answered",
    "non_response": "No answer",
    "opted_out": "Opted out",
    "undelivered": "Not delivered",
}


@dataclass(frozen=True)
class WaveLine:
    survey: str
    closed_at: datetime
    outcome: str
    score: int | None  # the first answer's score, when answered


def wave_record(customer_id: int, limit: int = 12) -> list[WaveLine]:
    """The customer's closed waves, newest first: answered or not, and the score."""
    score = (
        select(func.max(Response.score))
        .where(Response.wave_id == WaveOutcome.wave_id, Response.customer_id == customer_id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Survey.name, WaveOutcome.closed_at, WaveOutcome.outcome, score)
        .join(Wave, Wave.id == WaveOutcome.wave_id)
        .join(Survey, Survey.id == Wave.survey_id)
        .where(WaveOutcome.customer_id == customer_id)
        .order_by(WaveOutcome.closed_at.desc(), WaveOutcome.wave_id.desc())
        .limit(limit)
    ).all()
    return [WaveLine(*row) for row in rows]


def risk_context(customer_id: int) -> dict:
    """What the customer page's risk panel shows (templates/customers/_risk.html)."""
    from feedback.risk.nonresponse import ResponseStats, response_stats

    return {
        "churn": latest_score(customer_id),
        "risk_history": risk_history(customer_id),
        "waves": wave_record(customer_id),
        "answers": response_stats([customer_id]).get(customer_id, ResponseStats()),
        "outcome_words": OUTCOME_WORDS,
    }
