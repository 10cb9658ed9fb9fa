"""Responses as the API reads them: three statements a page (the responses, their answers,
their stored themes), whatever its size.

A list goes by (updated_at, id), so a client syncing with `updated_since` never misses an
answer given or changed while it pages. Sentiment and themes are the stored analysis
(feedback.analysis.store, kept by the facts job) when it is current; a comment that job has
not seen yet, or saw before it was edited, is analysed here with the same functions.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from feedback.analysis.models import CommentAnalysis, CommentTheme
from feedback.analysis.sentiment import analyse_sentiment, label_for
from feedback.analysis.store import fingerprint, themes_file
from feedback.analysis.themes import load_themes, tag_themes
from feedback.api.records import after
from feedback.api.schemas import known_id
from feedback.customers.models import Contact, Customer
from feedback.errors import NotFound
from feedback.extensions import db
from feedback.responses.models import Answer, Response
from feedback.surveys.models import Invitation, TemplateVersion, Wave


def _response_select():
    return (
        select(
            Response.id, Response.score, Response.csi, Response.comment, Response.language,
            Response.answered_at, Response.updated_at, Response.wave_id, Wave.survey_id,
            TemplateVersion.template_key, TemplateVersion.version.label("template_version"),
            Customer.external_id.label("customer_external_id"),
            Customer.name.label("customer_name"), Contact.id.label("contact_id"),
            Contact.email.label("contact_email"), Contact.language.label("contact_language"),
            CommentAnalysis.sentiment, CommentAnalysis.fingerprint,
            CommentAnalysis.seen_updated_at,
        )
        .join(Customer, Customer.id == Response.customer_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Wave, Wave.id == Response.wave_id)
        .join(TemplateVersion, TemplateVersion.id == Response.template_version_id)
        .outerjoin(CommentAnalysis, CommentAnalysis.response_id == Response.id)
    )  # fmt: skip


def list_responses(*, limit: int, key: list | None, updated_since: datetime | None,
                   survey_id: int | None, wave_id: int | None, customer: str | None,
                   template: str | None) -> list[dict]:  # fmt: skip
    if key is not None:
        key = [datetime.fromisoformat(key[0]), int(key[1])]
    query = _response_select().where(after((Response.updated_at, Response.id), key))
    if updated_since is not None:
        query = query.where(Response.updated_at >= updated_since)
    if survey_id is not None:
        query = query.where(Wave.survey_id == survey_id)
    if wave_id is not None:
        query = query.where(Response.wave_id == wave_id)
    if customer is not None:
        query = query.where(Customer.external_id == customer)
    if template is not None:
        query = query.where(TemplateVersion.template_key == template)
    query = query.order_by(Response.updated_at, Response.id).limit(limit + 1)
    return _complete([dict(row) for row in db.session.execute(query).mappings()])


def get_response(response_id: int) -> dict:
    query = _response_select().where(Response.id == known_id(response_id, "response"))
    row = db.session.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"There is no response {response_id}.")
    return _complete([dict(row)])[0]


def _complete(rows: list[dict]) -> list[dict]:
    """Add every row's answers, sentiment and themes (one IN query each for the page)."""
    ids = [row["id"] for row in rows]
    answers: dict[int, dict[str, int]] = {}
    if ids:
        for response_id, question, score in db.session.execute(
            select(Answer.response_id, Answer.question_key, Answer.score).where(
                Answer.response_id.in_(ids)
            )
        ):
            answers.setdefault(response_id, {})[question] = score
    taxonomy = themes_file(current_app.config["FEEDBACK_TEMPLATES_DIR"])
    mark = fingerprint(taxonomy)
    current = {row["id"] for row in rows if _stored_is_current(row, mark)}
    stored_themes: dict[int, list[str]] = {}
    if current:
        for response_id, theme in db.session.execute(
            select(CommentTheme.response_id, CommentTheme.theme_key)
            .where(CommentTheme.response_id.in_(current))
            .order_by(CommentTheme.response_id, CommentTheme.theme_key)
        ):
            stored_themes.setdefault(response_id, []).append(theme)
    for row in rows:
        row["answers"] = answers.get(row["id"], {})
        row["customer"] = {"external_id": row["customer_external_id"],
                           "name": row["customer_name"]}  # fmt: skip
        row["contact"] = {"id": row["contact_id"], "email": row["contact_email"],
                          "language": row["contact_language"]}  # fmt: skip
        if not row["comment"]:
            row["sentiment"], row["themes"] = None, []
        elif row["id"] in current:
            row["sentiment"] = _sentiment(row["sentiment"])
            row["themes"] = _in_taxonomy_order(stored_themes.get(row["id"], []), taxonomy)
        else:
            language = row["language"]
            row["sentiment"] = _sentiment(analyse_sentiment(row["comment"], language).score)
            row["themes"] = tag_themes(row["comment"], language, load_themes(str(taxonomy)))
    return rows


def _stored_is_current(row: dict, mark: str) -> bool:
    return (
        bool(row["comment"])
        and row["fingerprint"] == mark
        and row["seen_updated_at"] is not None
        and row["seen_updated_at"] >= row["updated_at"]
    )


def _sentiment(score: float) -> dict:
    return {"score": round(score, 4), "label": label_for(score)}


def _in_taxonomy_order(keys: list[str], taxonomy: Path) -> list[str]:
    """Stored themes in the order tag_themes gives them, so the two never differ."""
    order = list(load_themes(str(taxonomy)))
    return sorted(keys, key=lambda key: order.index(key) if key in order else len(order))


def response_key(row: dict) -> list:
    return [row["updated_at"].isoformat(), row["id"]]
