"""The choices the filter controls offer: surveys and templates, waves, owners, teams."""

from __future__ import annotations

from sqlalchemy import func, select

from feedback.auth.models import Team, User
from feedback.customers.models import Customer
from feedback.surveys.models import Survey, Wave


def survey_choices(conn) -> list[tuple[str, str]]:
    """("nps", "All NPS surveys") for every template in use, then each survey by name."""
    surveys = conn.execute(select(Survey.id, Survey.name, Survey.template_key)
                           .order_by(func.lower(Survey.name))).all()  # fmt: skip
    templates = sorted({t for _, _, t in surveys})
    out = [(t, f"All {t.upper() if len(t) <= 4 else t} surveys") for t in templates]
    return out + [(str(i), name) for i, name, _ in surveys]


def wave_choices(conn, survey: str | None) -> list[tuple[str, str]]:
    """The sent waves of a survey (or of every survey of a template), newest first."""
    if not survey:
        return []
    stmt = (select(Wave.id, Wave.sent_at, Survey.name).join(Survey, Survey.id == Wave.survey_id)
            .where(Wave.sent_at.is_not(None)).order_by(Wave.sent_at.desc()))  # fmt: skip
    stmt = (
        stmt.where(Wave.survey_id == int(survey))
        if survey.isdigit()
        else stmt.where(Survey.template_key == survey)
    )
    rows = conn.execute(stmt.limit(200)).all()
    if survey.isdigit():
        return [(str(i), f"Wave of {sent:%-d %b %Y}") for i, sent, _ in rows]
    return [(str(i), f"{name}: wave of {sent:%-d %b %Y}") for i, sent, name in rows]


def owner_choices(conn) -> list[tuple[str, str]]:
    """People who own at least one customer, by the name shown (the e-mail when the name
    is blank), as on the staff pages. EXISTS probes the owner index once per member of
    staff; IN over the distinct owners read all 100,000 customers (25 ms)."""
    owns = select(Customer.id).where(Customer.owner_id == User.id).exists()
    shown = func.coalesce(func.nullif(User.name, ""), User.email)
    rows = conn.execute(select(User.id, shown).where(owns).order_by(func.lower(shown))).all()
    return [(str(i), name) for i, name in rows]


def team_choices(conn) -> list[tuple[str, str]]:
    rows = conn.execute(select(Team.id, Team.name).order_by(func.lower(Team.name)))
    return [(str(i), name) for i, name in rows]
