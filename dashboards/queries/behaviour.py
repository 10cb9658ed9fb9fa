"""View 2: attitude next to behaviour. Every customer's group as of one month (promoter,
passive, detractor, non-responder, not asked), revenue per customer and its 12-month change
per group and per class × group, each group's share of revenue, and a sample of customers
for a scatter of last score against revenue change.

Everything reads the monthly customer facts (feedback.reporting, `customer_months`) of one
month, the snapshot: the month of the period's last day. Never the transactions.

Groups (one per customer, in this order of precedence):
- non-responder: invited in a wave closed in the 12 months up to the snapshot and answered
  none of them; silence is the newer fact, so an older answer does not outrank it;
- promoter / passive / detractor: the newest NPS answer, if given within the 24 months up
  to the snapshot (an answer three years old says little about today);
- not asked: no NPS answer within 24 months and no wave in the last 12.
The survey and wave filters do not apply: the band is the newest NPS answer to any NPS
survey (as the facts keep it). Customers count when they bought in the 24 months up to the
snapshot (revenue_12m or revenue_prev_12m not zero), so a customer lost last year counts,
one lost three years ago does not."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, func, or_, select

from dashboards import stats
from dashboards.filters import Filters
from dashboards.periods import local_midnight_utc
from dashboards.queries.scope import fact_customer_conditions, join_customers
from feedback.customers.models import Customer
from feedback.reporting import facts_as_of, nps_band
from feedback.reporting.models import GroupMonth, ScatterPoint

GROUPS = ("promoter", "passive", "detractor", "non-responder", "not asked")
RECENT_MONTHS = 24  # an NPS answer older than this gives no band
UNCLASSIFIED = "none"  # customers without a class in the newest segment run
SCATTER_LIMIT = 3000  # points sent to the browser at most
SCATTER_LARGEST = 1000  # of which the largest customers by 12-month revenue


@dataclass(frozen=True)
class Snapshot:
    month: date  # the first day of the snapshot month
    recent_from: datetime  # UTC: NPS answers from this instant on give a band


def snapshot(filters: Filters, tz: ZoneInfo) -> Snapshot:
    """The month of the period's last day, and the start of its 24-month answer window."""
    month = filters.end.replace(day=1)
    key = month.year * 12 + month.month - 1 - (RECENT_MONTHS - 1)
    return Snapshot(month, local_midnight_utc(date(key // 12, key % 12 + 1, 1), tz))


def customer_group(f, snap: Snapshot):
    """SQL: the customer's group (GROUPS) from the facts subquery `f`."""
    return case(
        (and_(f.c.waves_12m > 0, f.c.answered_12m == 0), "non-responder"),
        (f.c.nps_answered_at >= snap.recent_from, nps_band(f.c.nps_score)),
        else_="not asked",
    )


def snapshot_facts(snap: Snapshot):
    """The snapshot month's facts as a subquery `f` (see feedback.reporting.facts_as_of)."""
    return facts_as_of(snap.month).subquery("f")


def scope_facts(stmt, f, filters: Filters, run_id: int | None, *, customer: bool = True):
    """Narrow `stmt` over the facts `f` to the customers the filters let through (class,
    programme, owner, team, the customer's language), joining Customer and the current
    CustomerSegment; only customers who bought in the 24 months up to the snapshot."""
    stmt = join_customers(stmt, f.c.customer_id, filters, run_id, customer=customer)
    if filters.language:
        stmt = stmt.where(Customer.language == filters.language)
    return stmt.where(or_(f.c.revenue_12m != 0, f.c.revenue_prev_12m != 0))


def money(column):
    """A money column as a float, so sums of squares neither overflow nor crawl."""
    return cast(column, Float)


def ratio(n: int, sum_y: float, sum_x: float, sum_yy: float, sum_xx: float, sum_xy: float,
          share: bool = False):  # fmt: skip
    """Σy / Σx in per cent with a 95 % interval (the ratio estimator's linearised standard
    error: the customers seen as a sample of customers like them); a `share` of a whole has
    its interval clipped to 0-100 %."""
    if n == 0 or sum_x == 0:
        return stats.Estimate(None, None, None, None, n)
    r = sum_y / sum_x
    residual = max(sum_yy - 2 * r * sum_xy + r * r * sum_xx, 0.0)
    se = math.sqrt(residual * n / (n - 1)) / abs(sum_x) if n > 1 else 0.0
    low, high = 100 * (r - stats.Z95 * se), 100 * (r + stats.Z95 * se)
    if share:
        low, high = max(low, 0.0), min(high, 100.0)
    return stats.Estimate(100 * r, low, high, 100 * se, n)


@dataclass(frozen=True)
class Sums:
    """Additive sums over a set of customers: n, Σrevenue, Σrevenue², Σprior, Σprior²,
    Σchange, Σchange², Σchange×prior (revenue = revenue_12m, prior = revenue_prev_12m)."""

    n: int = 0
    revenue: float = 0.0
    revenue_sq: float = 0.0
    prior: float = 0.0
    prior_sq: float = 0.0
    change: float = 0.0
    change_sq: float = 0.0
    change_prior: float = 0.0

    def __add__(self, other: Sums) -> Sums:
        return Sums(*(a + b for a, b in zip(self.row(), other.row(), strict=True)))

    def row(self) -> tuple:
        return (self.n, self.revenue, self.revenue_sq, self.prior, self.prior_sq, self.change,
                self.change_sq, self.change_prior)  # fmt: skip


@dataclass(frozen=True)
class GroupFigures:
    group: str  # one of GROUPS
    abc_class: str | None  # None: every class together
    sums: Sums

    @property
    def customers(self) -> int:
        return self.sums.n

    @property
    def revenue(self) -> float:
        return self.sums.revenue

    @property
    def revenue_per_customer(self) -> stats.Estimate:
        s = self.sums
        return stats.mean(s.n, s.revenue, s.revenue_sq)

    @property
    def change_per_customer(self) -> stats.Estimate:
        s = self.sums
        return stats.mean(s.n, s.change, s.change_sq)

    @property
    def change_pct(self) -> stats.Estimate:
        """The 12-month change in % of the group's revenue in the 12 months before."""
        s = self.sums
        if s.prior <= 0:
            return stats.Estimate(None, None, None, None, s.n)
        return ratio(s.n, s.change, s.prior, s.change_sq, s.prior_sq, s.change_prior)


@dataclass(frozen=True)
class Behaviour:
    month: date
    groups: list[GroupFigures]  # one per GROUPS, in order, empty ones too
    by_class: list[GroupFigures]  # class × group, classes A-D then unclassified
    total: Sums

    def share(self, g: GroupFigures) -> stats.Estimate:
        """The group's share of all revenue (12 months), in %, with a 95 % interval."""
        t = self.total
        return ratio(t.n, g.sums.revenue, t.revenue, g.sums.revenue_sq, t.revenue_sq,
                     g.sums.revenue_sq, share=True)  # fmt: skip

    @property
    def classes(self) -> list[str]:
        return sorted({g.abc_class for g in self.by_class}, key=_class_order)


def _class_order(abc_class: str) -> tuple:
    return (abc_class == UNCLASSIFIED, abc_class)


def behaviour(conn, filters: Filters, *, tz: ZoneInfo) -> Behaviour:
    """The figures per group and per class × group, from the month's group_months (the
    facts' sums per group and customer filters, kept with the other dashboard facts)."""
    snap = snapshot(filters, tz)
    gm = GroupMonth
    klass = func.coalesce(gm.abc_class, UNCLASSIFIED).label("c")
    stmt = select(
        gm.grp,
        klass,
        func.sum(gm.n),
        func.sum(gm.s_rev),
        func.sum(gm.ss_rev),
        func.sum(gm.s_prior),
        func.sum(gm.ss_prior),
        func.sum(gm.s_change),
        func.sum(gm.ss_change),
        func.sum(gm.s_change_prior),
    ).where(gm.month == snap.month, *fact_customer_conditions(gm, filters))
    if filters.language:
        stmt = stmt.where(gm.language == filters.language)
    stmt = stmt.group_by(gm.grp, klass)
    cells = {(g, c): Sums(int(n), *(float(v or 0) for v in rest))
             for g, c, n, *rest in conn.execute(stmt)}  # fmt: skip
    classes = sorted({c for _, c in cells}, key=_class_order)
    groups, by_class, total = [], [], Sums()
    for g in GROUPS:
        sums = Sums()
        for c in classes:
            cell = cells.get((g, c), Sums())
            by_class.append(GroupFigures(g, c, cell))
            sums = sums + cell
        groups.append(GroupFigures(g, None, sums))
        total = total + sums
    return Behaviour(snap.month, groups, by_class, total)


# --- the scatter ---------------------------------------------------------------------------


class Point(NamedTuple):  # thousands per draw: a tuple is made five times faster
    customer_id: int
    external_id: str
    name: str
    abc_class: str
    score: int
    answered_on: date  # the local day of the last score
    revenue_12m: float
    change: float


@dataclass(frozen=True)
class Scatter:
    points: list[Point]  # the largest customers first, then the sample
    customers: int  # promoters, passives and detractors (all could be shown)
    largest: int  # how many of the points are the largest customers (0: no sampling)


def scatter(conn, filters: Filters, *, tz: ZoneInfo, limit: int = SCATTER_LIMIT,
            largest: int = SCATTER_LARGEST) -> Scatter:  # fmt: skip
    """The customers of the promoter, passive and detractor groups (from scatter_points):
    last score and 12-month revenue change. Beyond `limit`, the `largest` by revenue and a
    fixed sample of the rest (the lowest `pick`, a hash of the id), so the browser gets a
    few thousand points, never 100,000. Each part is an index walk that stops at its limit;
    the count comes from group_months, which groups the same customers."""
    snap = snapshot(filters, tz)
    sp, gm = ScatterPoint, GroupMonth
    counted = select(func.sum(gm.n)).where(gm.month == snap.month, gm.grp.in_(GROUPS[:3]),
                                          *fact_customer_conditions(gm, filters))  # fmt: skip
    where = [sp.month == snap.month, *fact_customer_conditions(sp, filters)]
    if filters.language:
        counted = counted.where(gm.language == filters.language)
        where.append(sp.language == filters.language)
    customers = int(conn.scalar(counted) or 0)
    if not customers:
        return Scatter([], 0, 0)
    points = select(sp.customer_id, sp.external_id, sp.name,
                    func.coalesce(sp.abc_class, UNCLASSIFIED), sp.score, sp.answered_on, sp.rev,
                    sp.chg).where(*where)  # fmt: skip
    by_revenue = points.order_by(sp.rev.desc(), sp.customer_id.desc())
    if customers <= limit:
        return Scatter([_point(r) for r in conn.execute(by_revenue).all()], customers, 0)
    top = conn.execute(by_revenue.limit(largest)).all()
    # The rest: below the last of the largest in the same order, so the sample reads only
    # the rows it keeps (the build stores each month in pick order: a short sequential read)
    if top:
        last_rev, last_id = top[-1][6], top[-1][0]
        points = points.where(or_(sp.rev < last_rev,
                                  and_(sp.rev == last_rev, sp.customer_id < last_id)))  # fmt: skip
    sample = conn.execute(points.order_by(sp.pick).limit(limit - len(top))).all()
    return Scatter([_point(r) for r in top + sample], customers, len(top))


def _point(r) -> Point:
    return Point(r[0], r[1], r[2], r[3], int(r[4]), _day(r[5]), float(r[6] or 0),
                 float(r[7] or 0))  # fmt: skip


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def facts_through(conn) -> date | None:
    """The newest month the facts hold (None: never built)."""
    from feedback.reporting.models import CustomerMonth

    newest = conn.scalar(select(func.max(CustomerMonth.month)))
    return date.fromisoformat(newest) if isinstance(newest, str) else newest
