"""View 3: does NPS predict behaviour here? What customers did in the 6 and 12 months after
a month M, by what they had said by then, read from the monthly customer facts
(feedback.reporting), never from the transactions; and the newest stored churn backtest.

The anchor month M is the period's last month minus 12, so that twelve months of outcome
exist; only complete months count (the current month is still running). When the facts do
not reach that far back, M is the latest month with six months of outcome, and the 12-month
figures are left out.

Customers counted: active at M (revenue in the 12 months up to M, or an order within 365
days of M's last day), and the customer filters (class, programme, owner, team, language:
the customer's). Their group at M, first match wins, so each customer is in one group:
1. its newest NPS answer, if given in the 12 months up to M: promoter, passive, detractor;
2. non-responder: invited in a wave closed in those 12 months and answered none;
3. its newest NPS answer from the 12 months before those (an answer 13-24 months old);
4. not asked: no NPS answer in 24 months and no survey in 12.
The survey and wave filters do not apply: a group comes from the newest NPS answer in any
NPS survey (the facts keep no more), and the outcomes are the customer's, not a survey's.

Outcomes of a group, each with n and a 95 % interval:
- churned within h months (h = 6, 12): no order after M's last day up to M + h's last day;
  a share with the Wilson interval;
- revenue change over h months: revenue_12m at M + h minus revenue_12m at M, that is the
  revenue of the h months after M against that of the same h calendar months a year
  earlier (for 12: the 12 months after against the 12 up to M; for 6: months M+1..M+6
  against M-11..M-6, so a seasonal buyer is compared with its own season); mean per
  customer, and the group's total change in % of its revenue in the 12 months up to M.
  (Comparing M+1..M+6 with M-5..M instead needs every month's revenue per customer, a
  12-month scan and grouping of the facts that costs 300-900 ms over 100,000 customers on
  PostgreSQL, and compares spring with winter.) Left out where the 12 months up to M
  reach back before the facts' first month: revenue there is unknown, not zero.

The figures are sums per anchor month, group and customer filters in `predict_months`
(feedback.reporting.outcomes), kept with the other dashboard facts: class, programme, owner
and language are the customer's at the last build, and the figures are as old as that
build (at most about 15 minutes for anchors whose outcome months are this or last month,
a day for older ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries.scope import fact_customer_conditions
from feedback.reporting.models import CustomerMonth, PredictMonth
from feedback.risk.models import ChurnBacktest

GROUPS = ("promoter", "passive", "detractor", "non_responder", "not_asked")
GROUP_LABELS = {"promoter": "promoters", "passive": "passives", "detractor": "detractors",
                "non_responder": "non-responders", "not_asked": "not asked"}  # fmt: skip
HORIZONS = (6, 12)


def _key(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month(key: int) -> date:
    return date(key // 12, key % 12 + 1, 1)


@dataclass(frozen=True)
class GroupOutcome:
    """What one group's customers did after M. Estimates are EMPTY for a horizon not
    observed (12 months when M had to move closer)."""

    group: str
    customers: int  # active at M
    churn: dict[int, stats.Estimate]  # horizon -> % churned, Wilson interval
    churned: dict[int, int]  # horizon -> customers churned
    change: dict[int, stats.Estimate]  # horizon -> mean revenue change per customer
    change_pct: dict[int, float | None]  # horizon -> Σ change in % of revenue_before
    revenue_before: dict[int, float]  # horizon -> Σ revenue_12m at M

    @property
    def label(self) -> str:
        return GROUP_LABELS[self.group]


@dataclass(frozen=True)
class Outcomes:
    anchor: date | None  # M, the first day of the month; None: too little history
    wanted: date  # the anchor the period asked for (its last complete month minus 12)
    last_month: date | None  # the last complete month of outcome the period allows
    horizons: tuple[int, ...]  # the horizons observed: (6, 12), (6,) or ()
    # The horizons with a revenue change: all, when the 12 months up to M lie wholly in the
    # facts (M - 11 not before their first month); none otherwise.
    revenue_horizons: tuple[int, ...]
    groups: list[GroupOutcome]  # in GROUPS order, every group (customers 0 if none)
    first_month: date | None  # the facts' first month (None: no facts at all)

    @property
    def customers(self) -> int:
        return sum(g.customers for g in self.groups)

    def group(self, key: str) -> GroupOutcome:
        return next(g for g in self.groups if g.group == key)


def _as_date(value) -> date | None:
    if isinstance(value, str):  # SQLite hands back text from an aggregate
        return date.fromisoformat(value[:10])
    return value


def choose_anchor(first: date | None, through: date | None, end: date, today: date):
    """(anchor, last month, horizons): the last complete month the period allows, L, and
    M = L − 12, or L − 6 when the facts start later, or no anchor."""
    wanted_last = min(_key(end), _key(today) - 1)
    if first is None or through is None:
        return None, _month(wanted_last), ()
    last = min(wanted_last, _key(through), _key(today) - 1)
    for horizons in ((6, 12), (6,)):
        anchor = last - horizons[-1]
        if anchor >= _key(first):
            return _month(anchor), _month(last), horizons
    return None, _month(last), ()


def outcomes_after(conn, filters: Filters, *, tz: ZoneInfo, today: date) -> Outcomes:
    """Churn and revenue change 6 and 12 months after the anchor month, by group: the
    anchor's rows of predict_months (the facts of M, M + 6 and M + 12 summed per group and
    customer filters, kept with the other dashboard facts), summed over the filters."""
    cm, pm = CustomerMonth, PredictMonth
    first, through = conn.execute(select(func.min(cm.month), func.max(cm.month))).one()
    first, through = _as_date(first), _as_date(through)
    anchor, last, horizons = choose_anchor(first, through, filters.end, today)
    wanted = _month(min(_key(filters.end), _key(today) - 1) - 12)
    if anchor is None:
        empty = [GroupOutcome(g, 0, {}, {}, {}, {}, {}) for g in GROUPS]
        return Outcomes(None, wanted, last, (), (), empty, first)

    sums = [func.sum(pm.n), func.sum(pm.s_rev)]
    for h in horizons:
        sums += [func.sum(getattr(pm, f"{name}_{h}"))
                 for name in ("n", "churned", "s_change", "ss_change")]  # fmt: skip
    stmt = select(pm.grp, *sums).where(pm.month == anchor, *fact_customer_conditions(pm, filters))
    if filters.language:
        stmt = stmt.where(pm.language == filters.language)
    found = {row[0]: row[1:] for row in conn.execute(stmt.group_by(pm.grp))}

    # Revenue before the facts began is unknown, not zero: no revenue change then.
    known = horizons if _key(anchor) - 11 >= _key(first) else ()
    groups = []
    for key in GROUPS:
        n, revenue_m, *rest = found.get(key, (0, 0))
        churn, churned, change, change_pct, before = {}, {}, {}, {}, {}
        for h in horizons if key in found else ():
            seen, hits, total, total_sq, *rest = rest
            churned[h] = int(hits or 0)
            churn[h] = stats.proportion(churned[h], int(seen or 0))
            if h in known:
                before[h] = _f(revenue_m)
                change[h] = stats.mean(int(seen or 0), _f(total), _f(total_sq))
                change_pct[h] = _pct(_f(total), before[h])
        groups.append(GroupOutcome(key, int(n), churn, churned, change, change_pct, before))
    return Outcomes(anchor, wanted, last, horizons, known, groups, first)


def _f(value) -> float:
    return float(value or 0)


def _pct(change: float, before: float) -> float | None:
    return 100 * change / before if before > 0 else None


# --- comparing two groups --------------------------------------------------------------------


def two_proportion_z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float | None:
    """The pooled two-proportion z statistic of a against b; None when a side is empty or
    nobody (or everybody) churned on both sides."""
    if not n_a or not n_b:
        return None
    pooled = (hits_a + hits_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return None
    return (hits_a / n_a - hits_b / n_b) / spread


def churn_differs(a: GroupOutcome, b: GroupOutcome, horizon: int):
    """(z, |z| > 1.96) for the churn of a against b (pooled two-proportion z test); the
    verdict is None when either side has fewer than MIN_N customers."""
    if horizon not in a.churn or horizon not in b.churn:
        return None, None
    z = two_proportion_z(a.churned[horizon], a.churn[horizon].n,
                         b.churned[horizon], b.churn[horizon].n)  # fmt: skip
    if z is None or not (a.churn[horizon].enough and b.churn[horizon].enough):
        return z, None
    return z, abs(z) > stats.Z95


# --- the stored backtest ---------------------------------------------------------------------

SIGNAL_LABELS = {
    "combined": "combined churn score",
    "nps": "NPS alone",
    "non_response": "non-response alone",
    "recency": "recency alone",
    "behaviour": "order behaviour alone",
}


@dataclass(frozen=True)
class SignalResult:
    signal: str
    label: str
    auc: float | None  # 0.5: a coin toss, 1: foresaw every churner
    auc_low: float | None
    auc_high: float | None
    lift: float | None  # churn rate in the riskiest tenth over the overall rate


@dataclass(frozen=True)
class Backtest:
    as_of: date
    computed_at: datetime
    horizon_days: int
    model: str  # fitted | default
    customers: int
    churned: int
    signals: list[SignalResult]


def latest_backtest(conn) -> Backtest | None:
    """The backtest computed last (feedback.risk.backtests), or None."""
    b = ChurnBacktest
    row = conn.execute(
        select(b.as_of, b.computed_at, b.horizon_days, b.result)
        .order_by(b.computed_at.desc(), b.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    as_of, computed_at, horizon_days, result = row
    signals = []
    for key in result.get("auc", {}):
        low, high = (result.get("auc_ci95", {}).get(key) or [None, None])[:2]
        signals.append(SignalResult(key, SIGNAL_LABELS.get(key, key.replace("_", " ")),
                                    result["auc"][key], low, high,
                                    result.get("lift_top_decile", {}).get(key)))  # fmt: skip
    return Backtest(as_of, computed_at, horizon_days, result.get("model", ""),
                    int(result.get("customers", 0)), int(result.get("churned", 0)),
                    signals)  # fmt: skip
