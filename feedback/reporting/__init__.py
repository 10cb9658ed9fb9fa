"""Reporting pre-aggregates for the dashboard: `customer_months`, one row per customer per
calendar month (see models.CustomerMonth for what each column means), kept by build.py
(`feedback reporting rebuild|refresh`, the `refresh_reporting` job).

Views read it through `facts_as_of(month)`: the facts of every customer as of one month,
to join with customers and segments. For "what happened next" (churn and revenue over the
following 6 or 12 months), join the facts as of M with those as of M + 6 or M + 12 on
customer_id: `revenue_12m` at M + 12 is the revenue of the twelve months after M, and a
`last_order_on` at M + h still on or before M's last day means no order in between.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, select

from feedback.reporting.models import CustomerMonth

NPS_BANDS = ("promoter", "passive", "detractor", "none")  # none: never answered by then


def nps_band(score):
    """SQL: the NPS band of a 0-10 score column (NULL: 'none')."""
    return case(
        (score.is_(None), "none"),
        (score >= 9, "promoter"),
        (score >= 7, "passive"),
        else_="detractor",
    )


def facts_as_of(month: date):
    """A SELECT of every customer's facts as of `month` (any day of it), with its NPS band,
    its 12-month revenue change and whether it is a non-responder then (invited in a wave
    closed in the last 12 months and answered none). Customers whose first activity came
    later have no row."""
    cm = CustomerMonth
    return select(
        cm.customer_id,
        cm.month,
        cm.revenue,
        cm.orders,
        cm.revenue_12m,
        cm.revenue_prev_12m,
        (cm.revenue_12m - cm.revenue_prev_12m).label("revenue_change_12m"),
        cm.last_order_on,
        cm.nps_score,
        cm.nps_answered_at,
        nps_band(cm.nps_score).label("nps_band"),
        cm.waves_12m,
        cm.answered_12m,
        and_(cm.waves_12m > 0, cm.answered_12m == 0).label("non_responder"),
    ).where(cm.month == month.replace(day=1))
