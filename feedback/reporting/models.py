"""Monthly customer facts for the dashboard's behaviour views, and the state of their build."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

# The stored comment analyses theme_days is built from: registered with the metadata here,
# where every reporting table is.
import feedback.analysis.models  # noqa: F401
from feedback.customers.models import Money
from feedback.dbtypes import UTCDateTime
from feedback.extensions import db


class CustomerMonth(db.Model):
    """One customer in one calendar month: what it bought, what it last said, whether it
    answers. A pre-aggregate kept by feedback.reporting.build (never written elsewhere).

    Rows exist for every customer, for every month from the month of its first activity (its
    first transaction, wave outcome or NPS answer) through the month of the last build, with
    or without activity in the month itself. Money is in the base currency
    (FEEDBACK_BASE_CURRENCY) at the stored currency rates, as the segments use; a currency
    without a rate counts nothing. Months of transactions are those of their (local) dates;
    answers and waves fall into months by the company's time zone (FEEDBACK_TIMEZONE), so an
    answer at 23:30 UTC on 31 January is February's in Copenhagen."""

    __tablename__ = "customer_months"
    __table_args__ = (
        CheckConstraint("nps_score BETWEEN 0 AND 10", name="nps_score"),
        CheckConstraint("answered_12m <= waves_12m", name="answered_12m"),
        # The primary key leads with the month (one month's snapshot is a range); this one
        # serves a customer's history and deleting a customer (ON DELETE CASCADE).
        Index("ix_customer_months_customer", "customer_id", "month"),
    )

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    # Orders less credits dated in this month, and the number of orders (kind 'order').
    revenue: Mapped[Decimal] = mapped_column(Money)
    orders: Mapped[int] = mapped_column(Integer)
    # Revenue of the 12 months ending with this one, and of the 12 months before those: the
    # 12-month change is revenue_12m - revenue_prev_12m (0 where there was no history yet).
    revenue_12m: Mapped[Decimal] = mapped_column(Money)
    revenue_prev_12m: Mapped[Decimal] = mapped_column(Money)
    last_order_on: Mapped[date | None] = mapped_column(Date)  # newest order up to month end
    # The newest NPS answer (NPS templates only) answered up to the month's end, local time;
    # both NULL when the customer never answered one by then.
    nps_score: Mapped[int | None] = mapped_column(SmallInteger)  # 0-10
    nps_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Waves closed in the 12 months ending with this one in which the customer counted as
    # invited (outcome answered or non_response; opted_out and undelivered left out), and
    # how many of those it answered. A non-responder: waves_12m > 0 and answered_12m = 0.
    waves_12m: Mapped[int] = mapped_column(SmallInteger)
    answered_12m: Mapped[int] = mapped_column(SmallInteger)


class ReportingBuild(db.Model):
    """When a reporting table was last built and what it had seen then, so that a refresh
    can tell whether it may recompute only the latest months (see build.refresh)."""

    __tablename__ = "reporting_builds"

    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)  # customer_months
    through: Mapped[date] = mapped_column(Date)  # the newest month in the table
    rebuilt_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last full rebuild
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last build of any kind
    # The highest transaction and response ids at the last build: newer rows dated before
    # the months a refresh recomputes mean the older months are stale.
    transaction_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    response_mark: Mapped[int] = mapped_column(Integer, default=0)
    base_currency: Mapped[str] = mapped_column(String(3))  # the revenue's currency
    rates_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # newest rate change seen
    rows: Mapped[int] = mapped_column(Integer, default=0)  # rows written by the last build


class AnswerDay(db.Model):
    """Answers counted per local day, wave and the dimensions the dashboard filters on: the
    NPS and CSI figures of view 1 read these sums instead of a million responses. Kept by
    feedback.reporting.answers (rebuilt whole by the `refresh_dashboard_facts` job, so a
    figure is at most one job interval old). The day is the answer's date in the company's
    time zone; class and programme are the customer's in the newest segment run, owner the
    customer's owner, both as they were at the build. Promoters, passives and detractors
    count every answer by its first question's score (0-10); only NPS templates' counts are
    NPS (the queries pick them by template_key). csi_* are n, Σ and Σ² of the answers' CSI."""

    __tablename__ = "answer_days"
    __table_args__ = (
        Index("ix_answer_days_day", "day"),
        Index("ix_answer_days_wave", "wave_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    day: Mapped[date] = mapped_column(Date)
    wave_id: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    abc_class: Mapped[str | None] = mapped_column(String(1))  # None: never classified
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)  # None: no owner
    answers: Mapped[int] = mapped_column(Integer)
    promoters: Mapped[int] = mapped_column(Integer)
    passives: Mapped[int] = mapped_column(Integer)
    detractors: Mapped[int] = mapped_column(Integer)
    csi_n: Mapped[int] = mapped_column(Integer)
    csi_sum: Mapped[float] = mapped_column(Float)
    csi_sumsq: Mapped[float] = mapped_column(Float)
    comments: Mapped[int] = mapped_column(Integer, default=0)  # answers with a comment


class DriverDay(db.Model):
    """Rating answers summed per local day, wave, question and the filter dimensions, with
    the sums the CSI drivers view needs (view 7): n, Σx, Σx² of the rating, and over the
    answers whose response has a CSI: m, Σx, Σx², Σy, Σy², Σxy (y the CSI). Which
    questions are drivers comes from the templates when the view is drawn."""

    __tablename__ = "driver_days"
    __table_args__ = (
        Index("ix_driver_days_day", "day"),
        Index("ix_driver_days_wave", "wave_id", "day"),  # one wave's: a quarter of the rows
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    day: Mapped[date] = mapped_column(Date)
    wave_id: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))
    question_key: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    sx: Mapped[float] = mapped_column(Float)
    sxx: Mapped[float] = mapped_column(Float)
    m: Mapped[int] = mapped_column(Integer)
    px: Mapped[float] = mapped_column(Float)
    pxx: Mapped[float] = mapped_column(Float)
    sy: Mapped[float] = mapped_column(Float)
    syy: Mapped[float] = mapped_column(Float)
    sxy: Mapped[float] = mapped_column(Float)


ALL_COMMENTS, NO_THEME = "*", "-"  # theme_days' keys besides the taxonomy's


class ThemeDay(db.Model):
    """Analysed comments (feedback.analysis.store) counted per local day, wave, theme and
    the filter dimensions, as DriverDay: n, and Σ and Σ² of their sentiment (-1..1), for the
    comment themes of view 7. A comment counts once under each theme it mentions, once
    under '*' (every analysed comment) and, when it mentions none, once under '-'."""

    __tablename__ = "theme_days"
    __table_args__ = (
        Index("ix_theme_days_day", "day"),
        Index("ix_theme_days_wave", "wave_id", "day"),  # one wave's: 3 ms instead of 8
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    day: Mapped[date] = mapped_column(Date)
    wave_id: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    theme_key: Mapped[str] = mapped_column(String(40))  # a taxonomy key, '*' or '-'
    n: Mapped[int] = mapped_column(Integer)
    s: Mapped[float] = mapped_column(Float)
    ss: Mapped[float] = mapped_column(Float)


class InvitationFacts(db.Model):
    """Invitations of sent waves counted per wave, invitation language and the customer's
    class, programme and owner (as of the build): the funnel of view 4. The steps follow
    how an invitation changes state (see dashboards/queries/funnel.py): invited (handed to
    sending), delivered (not bounced or failed), opened (an open or click event, or an
    answer), answered. sent_day is the wave's send date in the company's time zone."""

    __tablename__ = "invitation_facts"
    __table_args__ = (Index("ix_invitation_facts_sent", "sent_day", "wave_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    wave_id: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))
    sent_day: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    invited: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)


class OutcomeFacts(db.Model):
    """Closed waves' outcomes (wave_outcomes) counted per wave, close date (local), the
    language the customer was invited in (the lowest code when its contacts differ) and its
    class, programme and owner: the non-response trend of view 4. counted = answered +
    non_response (opted out and undelivered left out), silent = non_response."""

    __tablename__ = "outcome_facts"
    __table_args__ = (Index("ix_outcome_facts_closed", "closed_day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    wave_id: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))
    closed_day: Mapped[date] = mapped_column(Date)
    language: Mapped[str | None] = mapped_column(String(2))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    silent: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)


class CaseFacts(db.Model):
    """Every case, narrowed to what the closed-loop view counts (view 6): the local day it
    was opened, who works it, the survey and wave of its answer (none for churn cases), the
    customer's language, class and programme, its status and deadline, and the hours to
    first action and to closing. Rebuilt whole with the other dashboard facts; at the
    bench's 200,000 cases a year's worth is read far faster than from the wide cases table."""

    __tablename__ = "case_facts"
    __table_args__ = (
        Index("ix_case_facts_created", "created_day"),
        Index("ix_case_facts_wave", "wave_id", "created_day"),  # one wave's cases
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the case's id
    created_day: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    survey_id: Mapped[int | None] = mapped_column(Integer)
    wave_id: Mapped[int | None] = mapped_column(Integer)
    template_key: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))  # the customer's
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours_to_first: Mapped[float | None] = mapped_column(Float)  # None: no action yet
    hours_to_close: Mapped[float | None] = mapped_column(Float)  # None: not closed
    # The same hours rounded as the view counts them (cases.bucket_sql): grouping on a
    # stored value instead of computing it per case halved the one-wave statement.
    first_bucket: Mapped[float | None] = mapped_column(Float)
    close_bucket: Mapped[float | None] = mapped_column(Float)
    followup_asked: Mapped[bool] = mapped_column(Boolean)
    followup_solved: Mapped[bool | None] = mapped_column(Boolean)
    root_cause: Mapped[str | None] = mapped_column(String(40))


class GroupMonth(db.Model):
    """customer_months summed per month, NPS group and the customer filters: the figures of
    the attitude-vs-behaviour view (view 2) without reading 100,000 customers per click.
    Groups as dashboards/queries/behaviour.py defines them (non-responder, promoter,
    passive, detractor from an answer within 24 months, not asked), over customers who
    bought in the 24 months up to the month. Class, programme, owner and language are the
    customer's at the build. Money is the base currency, summed as floats: n, Σ and Σ² of
    the 12-month revenue, of the 12 months before, and of the change, and Σ change × before.
    Kept by feedback.reporting.groups with the other dashboard facts."""

    __tablename__ = "group_months"
    __table_args__ = (Index("ix_group_months_month", "month"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    month: Mapped[date] = mapped_column(Date)
    grp: Mapped[str] = mapped_column(String(14))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    n: Mapped[int] = mapped_column(Integer)
    s_rev: Mapped[float] = mapped_column(Float)
    ss_rev: Mapped[float] = mapped_column(Float)
    s_prior: Mapped[float] = mapped_column(Float)
    ss_prior: Mapped[float] = mapped_column(Float)
    s_change: Mapped[float] = mapped_column(Float)
    ss_change: Mapped[float] = mapped_column(Float)
    s_change_prior: Mapped[float] = mapped_column(Float)


class ScatterPoint(db.Model):
    """The customers of the attitude-vs-behaviour scatter (view 2), per month: those in a
    promoter, passive or detractor group of group_months (the same rule), with their last
    score, 12-month revenue and its change, and the customer filters as of the build. The
    view draws the largest by revenue and a fixed sample of the rest (`pick`, a hash of the
    id: the same customers on every draw), each an index walk that stops after a few
    thousand rows, instead of ranking 50,000 customers per click. Kept with group_months."""

    __tablename__ = "scatter_points"
    __table_args__ = (
        Index("ix_scatter_points_revenue", "month", "rev", "customer_id"),
        Index("ix_scatter_points_pick", "month", "pick"),
        Index("ix_scatter_points_customer", "customer_id"),  # ON DELETE CASCADE
    )

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    # A deleted customer leaves the chart at once; a renamed one at the next build.
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    # The customer's number and name for the hover, copied at the build: reading them from
    # customers for 3,000 points cost more than everything else the chart reads.
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    score: Mapped[int] = mapped_column(SmallInteger)
    answered_on: Mapped[date] = mapped_column(Date)  # the local day of the last score
    rev: Mapped[float] = mapped_column(Float)  # revenue_12m in the base currency
    chg: Mapped[float] = mapped_column(Float)  # revenue_12m - revenue_prev_12m
    pick: Mapped[int] = mapped_column(BigInteger)  # the sample's order


class PredictMonth(db.Model):
    """customer_months summed per anchor month M, NPS group and the customer filters, with
    what the customers did 6 and 12 months after M: the figures of "Does NPS predict
    behaviour here?" (view 3) without joining 100,000 customers' facts three times per
    click. Groups and the customers counted as dashboards/queries/predict.py defines them
    (customers active at M; group from the newest NPS answer within 12 months, silence in
    the waves, an answer 13-24 months old, else not asked). Class, programme, owner and
    language are the customer's at the build. For each horizon h (6, 12): how many of the
    customers have facts at M + h (none while M + h is not built), how many of those placed
    no order after M, and Σ and Σ² of their revenue_12m at M + h minus at M. Money in the
    base currency, summed as floats. Kept by feedback.reporting.outcomes."""

    __tablename__ = "predict_months"
    __table_args__ = (Index("ix_predict_months_month", "month"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    month: Mapped[date] = mapped_column(Date)  # the anchor month M
    grp: Mapped[str] = mapped_column(String(14))  # promoter ... non_responder, not_asked
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    n: Mapped[int] = mapped_column(Integer)  # customers active at M
    s_rev: Mapped[float] = mapped_column(Float)  # Σ revenue_12m at M
    n_6: Mapped[int] = mapped_column(Integer)  # of n, those with facts at M + 6
    churned_6: Mapped[int] = mapped_column(Integer)  # of n_6, no order after M up to M + 6
    s_change_6: Mapped[float] = mapped_column(Float)  # Σ revenue_12m at M + 6 minus at M
    ss_change_6: Mapped[float] = mapped_column(Float)
    n_12: Mapped[int] = mapped_column(Integer)
    churned_12: Mapped[int] = mapped_column(Integer)
    s_change_12: Mapped[float] = mapped_column(Float)
    ss_change_12: Mapped[float] = mapped_column(Float)


class RiskMonth(db.Model):
    """customer_months of a snapshot month joined with a churn run's scores, summed per
    at-risk kind and the customer filters: the figures of "Revenue at risk" (view 5). One
    set of rows per month and each churn run a day of that month can see: the newest run
    before the month began (or none: run_id NULL) and every run dated within it. Kinds,
    groups and customers counted as dashboards/queries/revenue_risk.py defines them; class,
    programme, owner and language are the customer's at the build. Money in the base
    currency, summed as floats. Kept by feedback.reporting.outcomes."""

    __tablename__ = "risk_months"
    __table_args__ = (Index("ix_risk_months_month_run", "month", "run_as_of"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)  # fmt: skip
    month: Mapped[date] = mapped_column(Date)  # the snapshot month
    # The churn run (None: no run as of the month's first days); a deleted run's rows go.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("churn_runs.id", ondelete="CASCADE"))
    run_as_of: Mapped[date | None] = mapped_column(Date)  # the run's as_of, copied
    kind: Mapped[str] = mapped_column(String(14))  # both | high risk only | detractor only | none
    abc_class: Mapped[str | None] = mapped_column(String(1))
    programme: Mapped[str | None] = mapped_column(String(6))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    n: Mapped[int] = mapped_column(Integer)
    s_rev: Mapped[float] = mapped_column(Float)  # Σ revenue_12m
    ss_rev: Mapped[float] = mapped_column(Float)
    scored: Mapped[int] = mapped_column(Integer)  # customers with a score in the run
    s_loss: Mapped[float] = mapped_column(Float)  # Σ risk / 100 × revenue_12m over those
