"""What every query shares: which answers and which customers the filters let through.

Class and programme are the customer's current ones (the newest segment run), so a
customer who moved from B to A counts as A in every period; owner and team are today's
owner and that owner's team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select

from dashboards.filters import Filters
from feedback.auth.models import User
from feedback.customers.models import Customer, CustomerSegment, SegmentRun
from feedback.list_filters import segment_conditions
from feedback.reporting.models import AnswerDay
from feedback.responses.models import Response
from feedback.surveys.models import Survey, Wave


def latest_run_id(conn) -> int | None:
    """The newest segment run: the customers' current class and programme."""
    return conn.scalar(select(SegmentRun.id).order_by(SegmentRun.as_of.desc()).limit(1))


def customer_conditions(filters: Filters, abc_class=None, programme=None, owner_id=None) -> list:
    """Class, programme, owner and team (the owner's), on the given columns; by default
    those of a query joining Customer and CustomerSegment."""
    owner_id = Customer.owner_id if owner_id is None else owner_id
    conditions = segment_conditions(filters, abc_class, programme, owner_id)
    if filters.team is not None:
        conditions.append(owner_id.in_(select(User.id).where(User.team_id == filters.team)))
    return conditions


def join_customers(stmt, customer_id_column, filters: Filters, run_id: int | None, *,
                   customer: bool = True):  # fmt: skip
    """Join Customer and the current CustomerSegment onto `stmt` (the segment left-joined,
    so customers never classified still count when no class or programme is chosen).
    customer=False leaves Customer out when no filter needs it (owner, team, language):
    a join of 100,000 rows less for a query that selects nothing from it."""
    if customer or filters.owner is not None or filters.team is not None or filters.language:
        stmt = stmt.join(Customer, Customer.id == customer_id_column)
        customer_id_column = Customer.id
    on = and_(CustomerSegment.customer_id == customer_id_column,
              CustomerSegment.run_id == run_id)  # fmt: skip
    needs_segment = bool(filters.classes or filters.programme)
    return stmt.join(CustomerSegment, on, isouter=not needs_segment).where(
        *customer_conditions(filters)
    )


def survey_conditions(filters: Filters, survey_id=None, template_key=None, wave_id=None) -> list:
    """Survey (or template) and wave, on the given columns; by default those of a query
    joining Wave and Survey."""
    survey_id = Wave.survey_id if survey_id is None else survey_id
    template_key = Survey.template_key if template_key is None else template_key
    wave_id = Wave.id if wave_id is None else wave_id
    conditions = []
    if filters.survey_id is not None:
        conditions.append(survey_id == filters.survey_id)
    elif filters.template_key:
        conditions.append(template_key == filters.template_key)
    if filters.wave is not None:
        conditions.append(wave_id == filters.wave)
    return conditions


def scoped_answers(columns, filters: Filters, run_id: int | None, start: datetime,
                   end: datetime, templates=None):  # fmt: skip
    """SELECT `columns` FROM the answers the filters let through, answered in
    [start, end) (UTC), optionally only from surveys of `templates`."""
    stmt = (
        select(*columns)
        .select_from(Response)
        .join(Wave, Wave.id == Response.wave_id)
        .join(Survey, Survey.id == Wave.survey_id)
        .where(
            Response.answered_at >= start, Response.answered_at < end, *survey_conditions(filters)
        )  # fmt: skip
    )
    if templates is not None:
        stmt = stmt.where(Survey.template_key.in_(list(templates) or [""]))
    if filters.language:
        stmt = stmt.where(Response.language == filters.language)
    if not needs_customers(filters):
        return stmt  # the join would let every answer through: leave it out
    return join_customers(stmt, Response.customer_id, filters, run_id)


def needs_customers(filters: Filters) -> bool:
    return bool(filters.classes or filters.programme or filters.owner is not None
                or filters.team is not None)  # fmt: skip


def fact_customer_conditions(facts, filters: Filters) -> list:
    """Class, programme, owner and team on a fact table that carries abc_class, programme
    and owner_id (as of its build)."""
    return customer_conditions(filters, facts.abc_class, facts.programme, facts.owner_id)


def fact_conditions(facts, filters: Filters) -> list:
    """Survey (or template), wave, language, class, programme, owner and team on a fact
    table carrying survey_id, template_key, wave_id, language, abc_class, programme and
    owner_id."""
    conditions = fact_customer_conditions(facts, filters)
    conditions += survey_conditions(filters, facts.survey_id, facts.template_key, facts.wave_id)
    if filters.language:
        conditions.append(facts.language == filters.language)
    return conditions


def scoped_answer_days(columns, filters: Filters, templates=None):
    """SELECT `columns` FROM answer_days in the filters' period (local days) and scope,
    optionally only rows of surveys of `templates`."""
    ad = AnswerDay
    stmt = select(*columns).where(ad.day >= filters.start, ad.day <= filters.end,
                                  *fact_conditions(ad, filters))  # fmt: skip
    if templates is not None:
        stmt = stmt.where(ad.template_key.in_(list(templates) or [""]))
    return stmt
