"""What a view needs besides the filters: a connection, the time zone, today, and which
templates ask the NPS question. Built once per callback from the app's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app

from dashboards.filters import Filters
from feedback.dbtypes import utcnow
from feedback.extensions import db


@dataclass
class Context:
    conn: object  # a SQLAlchemy Connection
    filters: Filters
    tz: ZoneInfo
    today: date
    now: datetime
    nps_templates: tuple[str, ...]
    base_currency: str


@lru_cache(maxsize=8)
def _nps_templates(directory: str) -> tuple[str, ...]:
    from feedback.risk.churn import nps_templates
    from feedback.surveys.templates import load_templates

    return tuple(nps_templates(load_templates(directory)))


def local_today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["FEEDBACK_TIMEZONE"])).date()


def make_context(filters: Filters) -> Context:
    config = current_app.config
    tz = ZoneInfo(config["FEEDBACK_TIMEZONE"])
    now = utcnow()
    return Context(
        conn=db.session.connection(),
        filters=filters,
        tz=tz,
        today=now.astimezone(tz).date(),
        now=now,
        nps_templates=_nps_templates(str(config["FEEDBACK_TEMPLATES_DIR"])),
        base_currency=config["FEEDBACK_BASE_CURRENCY"],
    )
