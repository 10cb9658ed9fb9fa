"""ABC classes and Grow/Retain programmes (DOMAIN.md §2), computed in one set-based statement.

Revenue is the trailing 12 months up to and including `as_of`, converted into the base
currency with the stored rates. Customers are ranked by it; a customer belongs to A while
the revenue of everyone ranked above it is under the A share of the total (so the customer
that crosses 50 % is still A), then B, C; D holds the rest and everyone without revenue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Numeric, bindparam, case, delete, func, select, text

from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.dbtypes import utcnow
from feedback.extensions import db


def window_start(as_of: date) -> date:
    """First day *after* which revenue counts: the same day one year earlier (29 Feb -> 28)."""
    try:
        return as_of.replace(year=as_of.year - 1)
    except ValueError:
        return as_of.replace(year=as_of.year - 1, day=28)


_SEGMENT_SQL = text(
    """
    INSERT INTO customer_segments (run_id, customer_id, revenue_12m, abc_class, programme, rank)
    WITH per_currency AS (
        SELECT t.customer_id, t.currency, SUM(t.amount) AS amount
        FROM transactions t
        WHERE t.date > :start AND t.date <= :as_of
        GROUP BY t.customer_id, t.currency
    ),
    converted AS (
        SELECT p.customer_id,
               SUM(p.amount * CASE WHEN p.currency = :base THEN 1 ELSE r.rate END) AS revenue
        FROM per_currency p
        LEFT JOIN currency_rates r ON r.currency = p.currency
        GROUP BY p.customer_id
    ),
    revenue AS (
        SELECT c.id AS customer_id, c.potential,
               ROUND(COALESCE(v.revenue, 0), 2) AS revenue
        FROM customers c
        LEFT JOIN converted v ON v.customer_id = c.id
    ),
    ranked AS (
        SELECT customer_id, potential, revenue,
               COALESCE(SUM(CASE WHEN revenue > 0 THEN revenue ELSE 0 END) OVER (
                   ORDER BY revenue DESC, customer_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
               SUM(CASE WHEN revenue > 0 THEN revenue ELSE 0 END) OVER () AS total,
               ROW_NUMBER() OVER (ORDER BY revenue DESC, customer_id) AS rank
        FROM revenue
    )
    SELECT :run_id, customer_id, revenue,
           CASE WHEN revenue <= 0 THEN 'D'
                WHEN before < :share_a * total THEN 'A'
                WHEN before < :share_ab * total THEN 'B'
                WHEN before < :share_abc * total THEN 'C'
                ELSE 'D' END,
           CASE WHEN potential IN :grow THEN 'grow' ELSE 'retain' END,
           rank
    FROM ranked
    """
).bindparams(
    bindparam("start", type_=Date),
    bindparam("as_of", type_=Date),
    bindparam("share_a", type_=Numeric(6, 4)),
    bindparam("share_ab", type_=Numeric(6, 4)),
    bindparam("share_abc", type_=Numeric(6, 4)),
    bindparam("grow", expanding=True),
)


def recompute_segments(
    as_of: date,
    *,
    base_currency: str,
    thresholds: Sequence[Decimal],
    grow_potentials: Sequence[str],
) -> SegmentRun:
    """Store a dated snapshot of every customer's class; recomputing a date replaces it."""
    share_a, share_b, share_c = thresholds
    existing = db.session.scalar(select(SegmentRun).where(SegmentRun.as_of == as_of))
    if existing is not None:
        db.session.execute(delete(CustomerSegment).where(CustomerSegment.run_id == existing.id))
        run = existing
        run.computed_at = utcnow()
    else:
        run = SegmentRun(as_of=as_of)
        db.session.add(run)
    run.thresholds = ",".join(f"{(share * 100).normalize():f}" for share in thresholds)
    run.base_currency = base_currency
    db.session.flush()

    db.session.execute(
        _SEGMENT_SQL,
        {
            "run_id": run.id,
            "start": window_start(as_of),
            "as_of": as_of,
            "base": base_currency,
            "share_a": share_a,
            "share_ab": share_a + share_b,
            "share_abc": share_a + share_b + share_c,
            "grow": list(grow_potentials) or [""],
        },
    )
    count, total = db.session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((CustomerSegment.revenue_12m > 0, CustomerSegment.revenue_12m))), 0
            ),
        ).where(CustomerSegment.run_id == run.id)
    ).one()
    run.customer_count = count
    run.total_revenue = Decimal(str(total)).quantize(Decimal("0.01"))
    db.session.flush()
    return run


def recompute_from_config(config, as_of: date | None = None) -> SegmentRun:
    """recompute_segments with the thresholds and currency of an app's config."""
    return recompute_segments(
        as_of or date.today(),
        base_currency=config["FEEDBACK_BASE_CURRENCY"],
        thresholds=config["FEEDBACK_ABC_THRESHOLDS"],
        grow_potentials=config["FEEDBACK_GROW_POTENTIALS"],
    )


def latest_run_id():
    """Scalar subquery: the run with the newest as_of date (the customers' current class)."""
    return select(SegmentRun.id).order_by(SegmentRun.as_of.desc()).limit(1).scalar_subquery()


def latest_run() -> SegmentRun | None:
    return db.session.scalar(select(SegmentRun).order_by(SegmentRun.as_of.desc()).limit(1))
