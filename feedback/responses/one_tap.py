"""The one-tap save: the score a customer tapped in the e-mail, posted by the survey page.

It is the hot path under load (a wave of thousands answering within minutes), so on
PostgreSQL it is one statement: data-modifying CTEs find the invitation of an open wave and
its template's main question (from the stored version, checking the score against its
scale), upsert the response and the answer, mark the invitation answered with its history
event, and write the webhook event (response.created, or response.updated when the score
changed) as responses/announce.py would. The answer lane (lane.py) runs the same statement
in front of Flask.
Anything else (SQLite, a main question that feeds the CSI, a score off the scale, a
customer number the event link would have to percent-encode, an
unknown link, a closed wave) takes the general path in services, which saves it or says
precisely what is wrong.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import text

from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses import services
from feedback.responses.services import SavedAnswer

_ISO = """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"""  # outbox.stamp's format
FAST_SAVE_SQL = """
    WITH target AS (
        SELECT i.id AS invitation_id, i.customer_id, i.language, w.id AS wave_id,
               w.template_version_id, q.key, v.template_key, c.external_id,
               c.name AS customer_name, r.score AS old_score
        FROM invitations i
        JOIN waves w ON w.id = i.wave_id
        JOIN template_versions v ON v.id = w.template_version_id
        JOIN customers c ON c.id = i.customer_id
        LEFT JOIN responses r ON r.invitation_id = i.id
        CROSS JOIN LATERAL (
            SELECT e->>'key' AS key, e->>'kind' AS kind,
                   COALESCE((e->>'csi')::boolean, false) AS csi
            FROM json_array_elements(v.content->'questions') e
            WHERE COALESCE((e->>'primary')::boolean, false)
            LIMIT 1
        ) q
        WHERE i.token = :token AND w.status <> 'closed' AND w.closes_at > :now
          AND NOT q.csi
          AND :score BETWEEN CASE WHEN q.kind = 'nps' THEN 0 ELSE 1 END AND 10
          AND (:question = '' OR q.key = :question)
          -- the event link needs no percent-encoding (outbox.customer_path); any other
          -- customer number takes the general path
          AND c.external_id ~ '^[A-Za-z0-9._~/-]+$'
    ), response AS (
        INSERT INTO responses (invitation_id, wave_id, customer_id, template_version_id, score,
                               comment, language, answered_at, updated_at)
        SELECT invitation_id, wave_id, customer_id, template_version_id, :score, '', language,
               :now, :now
        FROM target
        ON CONFLICT (invitation_id)
        DO UPDATE SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at
        RETURNING id, invitation_id, score, csi, comment, language, wave_id, answered_at,
                  updated_at
    ), answer AS (
        INSERT INTO answers (response_id, question_key, score)
        SELECT response.id, target.key, :score FROM response, target
        ON CONFLICT (response_id, question_key) DO UPDATE SET score = EXCLUDED.score
    ), answered AS (
        UPDATE invitations SET state = 'answered', answered_at = :now
        WHERE id = (SELECT invitation_id FROM response) AND answered_at IS NULL
        RETURNING id
    ), event AS (
        INSERT INTO invitation_events (invitation_id, kind, at, detail)
        SELECT id, 'answered', :now, '' FROM answered
    ), announced AS (
        -- the webhook event, as responses.announce writes it: created on the first answer,
        -- updated when the score changed
        SELECT response.*, target.template_key, target.customer_id, target.external_id,
               target.customer_name,
               CASE WHEN EXISTS (SELECT 1 FROM answered) THEN 'response.created'
                    WHEN target.old_score IS DISTINCT FROM response.score
                    THEN 'response.updated' END AS type
        FROM response, target
    ), outbox AS (
        INSERT INTO outbox_events (type, subject, payload, occurred_at)
        SELECT type, 'response:' || id, json_build_object(
            'type', type, 'timestamp', to_char(:now AT TIME ZONE 'UTC', ISO),
            'data', json_build_object(
                'response', json_build_object(
                    'id', id, 'score', score, 'csi', csi, 'comment', comment,
                    'language', language, 'wave_id', wave_id, 'template', template_key,
                    'answered_at', to_char(answered_at AT TIME ZONE 'UTC', ISO),
                    'updated_at', to_char(updated_at AT TIME ZONE 'UTC', ISO)),
                'customer', json_build_object(
                    'id', customer_id, 'external_id', external_id, 'name', customer_name),
                'url', CAST(:base_url AS text) || '/customers/' || external_id)), :now
        FROM announced WHERE type IS NOT NULL
    )
    SELECT id FROM response
""".replace("ISO", _ISO)
_FAST_SAVE = text(FAST_SAVE_SQL)
_PLAIN_SCORE = re.compile(r"\d{1,2}")


def plain_score(raw) -> int | None:
    """The score the statement can take ("9", " 10 ", 7); None sends it down the general
    path, which checks it against the question's scale and names what is wrong."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not _PLAIN_SCORE.fullmatch(raw.strip()):
        return None
    return int(raw.strip())


def save_score(
    token: str, question: str, raw_score: str, *, now: datetime | None = None
) -> SavedAnswer:
    """Save one score: `question` is a question's key, or "" for the survey's main question
    (the page names it by key). NotFound, SurveyClosed or BadAnswer."""
    now = now or utcnow()
    score = plain_score(raw_score)
    if db.engine.dialect.name == "postgresql" and score is not None:
        # One statement is one transaction: autocommit spares the BEGIN and COMMIT trips.
        with db.engine.connect() as connection:
            params = {"token": token, "now": now, "score": score, "question": question,
                      "base_url": current_app.config["FEEDBACK_BASE_URL"]}  # fmt: skip
            response_id = (
                connection.execution_options(isolation_level="AUTOCOMMIT")
                .execute(_FAST_SAVE, params)
                .scalar_one_or_none()
            )
        if response_id is not None:
            return SavedAnswer(response_id=response_id, score=score)
    # Another question, unknown link, closed wave, a score off the scale, a CSI question, or
    # SQLite: the general path saves it or says precisely what is wrong.
    return services.save_answers(token, scores={question or services.PRIMARY: raw_score}, now=now)
