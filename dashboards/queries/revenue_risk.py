"""View 5: revenue at risk. The 12-month revenue of customers with a high churn risk and of
detractors, by owner and by class, split into high risk only, detractor only and both; and
the model's expected loss (its churn probability times last year's revenue).

Read from the monthly customer facts of the snapshot month (the month of the period's last
day; see queries/behaviour.py for the groups and the customers counted) and the churn run
of the period's last day (the newest with as_of on or before it). High risk is a score of
HIGH_RISK or more, the "high" level of the risk badges on the staff pages; a detractor is a
customer in the detractor group of view 2 (newest NPS answer within 24 months a 0-6, and
not silent in the waves of the last 12 months). Amounts are revenue_12m of the snapshot, in
the base currency; the At-risk list ranks by the churn run's own copy of that revenue, so
its sums can differ a little when the run and the snapshot are of different days.

The figures are sums per snapshot month, churn run, kind and customer filters in
`risk_months` (feedback.reporting.outcomes), kept with the other dashboard facts: class,
programme, owner and language are the customer's at the last build, and the figures are as
old as that build (this and last month: at most about 15 minutes; older months: a day). A
churn run newer than the last build is not summed yet: until the next build (15 minutes at
most) the view shows the run before it, and says which."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries.behaviour import UNCLASSIFIED, ratio, snapshot
from dashboards.queries.scope import fact_customer_conditions
from feedback import risk
from feedback.auth.models import User
from feedback.list_filters import NO_OWNER
from feedback.reporting.models import RiskMonth
from feedback.risk.models import ChurnRun

HIGH_RISK = risk.HIGH_RISK  # summed into risk_months at the build; the view names it
KINDS = ("both", "high risk only", "detractor only")  # the at-risk kinds, worst first
NO_OWNER_LABEL = "No owner"


@dataclass(frozen=True)
class Run:
    id: int
    as_of: date


@dataclass
class RiskRow:
    """The figures of one group of customers (an owner, a class, or all of them)."""

    key: int | str | None  # owner id, NO_OWNER, a class letter, or None for all
    label: str
    customers: int = 0
    revenue: float = 0.0
    revenue_sq: float = 0.0
    scored: int = 0  # customers with a churn score in the run
    expected_loss: float = 0.0  # Σ risk/100 × revenue_12m over scored customers
    kinds: dict = field(default_factory=dict)  # kind -> [customers, amount, Σ amount²]

    def add(self, kind: str, n: int, revenue: float, revenue_sq: float, scored: int,
            loss: float) -> None:  # fmt: skip
        self.customers += n
        self.revenue += revenue
        self.revenue_sq += revenue_sq
        self.scored += scored
        self.expected_loss += loss
        if kind in KINDS:
            cell = self.kinds.setdefault(kind, [0, 0.0, 0.0])
            cell[0] += n
            cell[1] += revenue
            cell[2] += revenue_sq

    def count(self, kind: str) -> int:
        return self.kinds.get(kind, [0])[0]

    def amount(self, kind: str) -> float:
        return self.kinds.get(kind, [0, 0.0])[1]

    @property
    def at_risk_customers(self) -> int:
        return sum(c[0] for c in self.kinds.values())

    @property
    def at_risk(self) -> float:
        return sum(c[1] for c in self.kinds.values())

    @property
    def share_of_revenue(self) -> stats.Estimate:
        """Revenue at risk in % of the row's revenue, with a 95 % interval."""
        sq = sum(c[2] for c in self.kinds.values())
        return ratio(self.customers, self.at_risk, self.revenue, sq, self.revenue_sq, sq, True)

    @property
    def share_of_customers(self) -> stats.Estimate:
        return stats.proportion(self.at_risk_customers, self.customers)


@dataclass(frozen=True)
class RevenueRisk:
    month: date  # the snapshot month of the facts
    run: Run | None  # None: no churn run on or before the period's last day
    total: RiskRow
    owners: list[RiskRow]  # most revenue at risk first
    classes: list[RiskRow]  # A-D, then unclassified


def churn_run(conn, day: date) -> Run | None:
    """The newest churn run as of `day` or before it."""
    row = conn.execute(select(ChurnRun.id, ChurnRun.as_of).where(ChurnRun.as_of <= day)
                       .order_by(ChurnRun.as_of.desc()).limit(1)).first()  # fmt: skip
    return Run(*row) if row else None


def summed_run(conn, month: date, day: date) -> Run | None:
    """The newest churn run as of `day` that risk_months holds for `month` (a run newer
    than the last build is not summed yet: the one before it stands in)."""
    rm = RiskMonth
    row = conn.execute(select(rm.run_id, rm.run_as_of)
                       .where(rm.month == month, rm.run_as_of <= day)
                       .order_by(rm.run_as_of.desc()).limit(1)).first()  # fmt: skip
    return Run(row[0], _day(row[1])) if row else None


def revenue_risk(conn, filters: Filters, *, tz: ZoneInfo) -> RevenueRisk:
    """The month's rows of risk_months for the run as of the period's last day, grouped by
    owner, class and kind; the rows and totals roll up here."""
    snap = snapshot(filters, tz)
    run = summed_run(conn, snap.month, filters.end)
    rm = RiskMonth
    owner_label = func.coalesce(func.nullif(User.name, ""), User.email)
    stmt = (
        select(rm.owner_id, owner_label.label("o"),
               func.coalesce(rm.abc_class, UNCLASSIFIED).label("c"), rm.kind,
               func.sum(rm.n), func.sum(rm.s_rev), func.sum(rm.ss_rev), func.sum(rm.scored),
               func.sum(rm.s_loss))
        .outerjoin(User, User.id == rm.owner_id)
        .where(rm.month == snap.month, *fact_customer_conditions(rm, filters),
               rm.run_as_of == run.as_of if run else rm.run_as_of.is_(None))
        .group_by(rm.owner_id, "o", "c", rm.kind)
    )  # fmt: skip
    if filters.language:
        stmt = stmt.where(rm.language == filters.language)
    total, owners, classes = RiskRow(None, "All customers"), {}, {}
    rows = conn.execute(stmt).all()
    if not rows and run is None:  # the month not summed: say which run there would be
        run = churn_run(conn, filters.end)
    for owner_id, owner, abc_class, k, n, rev, rev_sq, scored, loss in rows:
        figures = (k, int(n), float(rev or 0), float(rev_sq or 0), int(scored or 0),
                   float(loss or 0))  # fmt: skip
        key = NO_OWNER if owner_id is None else owner_id
        owners.setdefault(key, RiskRow(key, owner or NO_OWNER_LABEL)).add(*figures)
        classes.setdefault(abc_class, RiskRow(abc_class, abc_class)).add(*figures)
        total.add(*figures)
    by_owner = sorted(owners.values(), key=lambda r: (-r.at_risk, -r.revenue, r.label))
    by_class = sorted(classes.values(), key=lambda r: (r.key == UNCLASSIFIED, r.key))
    return RevenueRisk(snap.month, run, total, by_owner, by_class)


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
