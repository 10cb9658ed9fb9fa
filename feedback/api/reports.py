"""/api/v1/churn-scores and /api/v1/reports/nps: the churn job's scores and the dashboard's
NPS per period, read-only."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from webargs.fields import DelimitedList

from dashboards.context import local_today
from dashboards.filters import EARLIEST, Filters, default_filters
from dashboards.periods import GRAINS
from feedback.api import report_queries as queries
from feedback.api.pagination import decode_cursor, listed
from feedback.api.schemas import ListArgs, id_field, problem_responses
from feedback.customers.models import ABC_CLASSES, PROGRAMMES
from feedback.problems import problem
from feedback.risk.models import CHURN_MODELS

MAX_REPORT_YEARS = 10  # periods a report may span: 120 months is already a long chart


def blueprints():
    from feedback.api import make_blueprint

    churn = make_blueprint("churn_scores", "/churn-scores", "Each customer's churn risk.")
    reports = make_blueprint("reports", "/reports", "The management dashboard's figures.")
    _churn_routes(churn)
    _report_routes(reports)
    return churn, reports


# --- schemas ------------------------------------------------------------------------------


def _classes(description: str) -> DelimitedList:
    return DelimitedList(ma.fields.String(validate=ma.validate.OneOf(ABC_CLASSES)),
                         data_key="class", load_default=list,
                         metadata={"description": description})  # fmt: skip


class ChurnRunSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    as_of = ma.fields.Date(required=True, metadata={"description": "data up to this day"})
    computed_at = ma.fields.AwareDateTime(required=True)
    model = ma.fields.String(required=True, metadata={"description": "|".join(CHURN_MODELS)})
    horizon_days = ma.fields.Integer(required=True, metadata={"description": "churn: no order"})
    customer_count = ma.fields.Integer(required=True)


class ChurnScoreSchema(ma.Schema):
    customer_external_id = ma.fields.String(required=True)
    customer_name = ma.fields.String(required=True)
    risk = ma.fields.Integer(required=True, metadata={"description": "churn probability, %"})
    band = ma.fields.String(required=True, metadata={"description": "high (60+)|medium (30+)|low"})
    reasons = ma.fields.List(ma.fields.String(), required=True,
                             metadata={"description": "sentences, strongest first"})  # fmt: skip
    reason_keys = ma.fields.List(ma.fields.String(), required=True)
    revenue_12m = ma.fields.Decimal(as_string=True, required=True,
                                    metadata={"description": "base currency"})  # fmt: skip
    revenue_at_risk = ma.fields.Decimal(as_string=True, required=True,
                                        metadata={"description": "revenue_12m × risk"})  # fmt: skip
    abc_class = ma.fields.String(data_key="class", allow_none=True, required=True)
    programme = ma.fields.String(allow_none=True, required=True)


ChurnScorePage = ma.Schema.from_dict(
    {
        "run": ma.fields.Nested(ChurnRunSchema, allow_none=True, required=True,
                                metadata={"description": "null: no churn run yet"}),
        "data": ma.fields.List(ma.fields.Nested(ChurnScoreSchema), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True),
    },
    name="ChurnScorePage",
)  # fmt: skip


class ChurnArgs(ListArgs):
    run = id_field("a churn run's id (default: the latest run)")
    as_of = ma.fields.Date(metadata={"description": "the latest run on or before this day"})
    abc_class = _classes("ABC classes in the latest segment run, e.g. A,B")
    min_risk = ma.fields.Integer(validate=ma.validate.Range(0, 100))

    @ma.validates_schema
    def _one_run(self, data, **_):
        if "run" in data and "as_of" in data:
            raise ma.ValidationError("give run or as_of, not both", "as_of")


class NpsRow(ma.Schema):
    period = ma.fields.String(required=True, metadata={"description": "2025-07 or 2025-Q3"})
    n = ma.fields.Integer(required=True)
    promoters = ma.fields.Integer(required=True)
    passives = ma.fields.Integer(required=True)
    detractors = ma.fields.Integer(required=True)
    nps = ma.fields.Float(allow_none=True, required=True, metadata={"description": "points"})
    ci_low = ma.fields.Float(allow_none=True, required=True, metadata={"description": "95 %"})
    ci_high = ma.fields.Float(allow_none=True, required=True)
    change_significant = ma.fields.Boolean(
        allow_none=True, required=True,
        metadata={"description": "against the previous period with answers; null: first, "
                                 "or fewer than 30 answers on a side"},
    )  # fmt: skip


class NpsReport(ma.Schema):
    period = ma.fields.String(required=True)
    start = ma.fields.Date(data_key="from", required=True)
    end = ma.fields.Date(data_key="to", required=True)
    classes = ma.fields.List(ma.fields.String(), data_key="class", required=True)
    programme = ma.fields.String(allow_none=True, required=True)
    data = ma.fields.List(ma.fields.Nested(NpsRow), required=True)


class NpsArgs(ma.Schema):
    period = ma.fields.String(load_default="month", validate=ma.validate.OneOf(GRAINS))
    start = ma.fields.Date(
        data_key="from",
        validate=ma.validate.Range(min=EARLIEST),
        metadata={"description": "first day (default: a year ago, the 1st)"},
    )
    end = ma.fields.Date(data_key="to", validate=ma.validate.Range(min=EARLIEST),
                         metadata={"description": "last day (default: today)"})  # fmt: skip
    classes = _classes("ABC classes, e.g. A,B")
    programme = ma.fields.String(validate=ma.validate.OneOf(PROGRAMMES))


# --- routes -------------------------------------------------------------------------------


def _bad_span(start: date, end: date):
    """A 422 for a period that ends before it starts or is too long (checked once the
    defaults have filled in a side the client left out)."""
    if start > end:
        message, field = f"from ({start}) is after to ({end})", "from"
    elif (end - start).days > MAX_REPORT_YEARS * 366:
        message, field = f"a report spans at most {MAX_REPORT_YEARS} years", "to"
    else:
        return None
    return problem(422, "The request has invalid values.",
                   errors=[{"field": field, "message": message, "in": "query"}])  # fmt: skip


def _churn_routes(bp) -> None:
    @bp.get("")
    @bp.arguments(ChurnArgs, location="query")
    @bp.response(200, ChurnScorePage)
    @problem_responses(bp, 404)
    def list_churn_scores(args):
        """Churn scores of the latest run (or ?run=, ?as_of=), highest risk first"""
        key = decode_cursor("churn-scores", args.get("cursor"))
        run = queries.churn_run(
            run_id=key[0] if key else args.get("run"), as_of=None if key else args.get("as_of")
        )
        rows = []
        if run is not None:
            rows = queries.list_churn_scores(
                run, limit=args["limit"], key=key, classes=sorted(set(args["abc_class"])),
                min_risk=args.get("min_risk"),
            )  # fmt: skip
        return listed(rows, args["limit"], "churn-scores", queries.churn_key, ChurnScorePage,
                      run=queries.run_summary(run))  # fmt: skip


def _report_routes(bp) -> None:
    @bp.get("/nps")
    @bp.arguments(NpsArgs, location="query")
    @bp.response(200, NpsReport)
    @problem_responses(bp, 422)
    def nps_report(args):
        """NPS per month or quarter with its 95 % interval (as `feedback report nps --json`)"""
        default = default_filters(local_today())
        start: date = args.get("start", default.start)
        end: date = args.get("end", default.end)
        refusal = _bad_span(start, end)
        if refusal is not None:
            return refusal
        filters = Filters(start=start, end=end, grain=args["period"],
                          classes=tuple(sorted(set(args["classes"]))),
                          programme=args.get("programme"))  # fmt: skip
        return {"period": filters.grain, "start": filters.start, "end": filters.end,
                "classes": list(filters.classes), "programme": filters.programme,
                "data": queries.nps_report(filters)}  # fmt: skip
