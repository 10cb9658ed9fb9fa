"""/api/v1/responses: every answer with its comment's sentiment and themes, the customer,
the contact and the wave; a sync by updated_since and cursor that misses nothing."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import event, select

from feedback.analysis.models import CommentAnalysis
from feedback.analysis.store import analyse_pending, themes_file
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses.models import Answer, Response
from feedback.surveys.models import Wave
from tests.support.api import assert_guarded, bearer, problem_of

LATE = "Delivery was late again and the price is too high."


@contextmanager
def statements():
    """Count the SQL statements run inside the block."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def _response(response_id: int) -> Response:
    return db.session.get(Response, response_id)


@pytest.mark.parametrize("path", ["/api/v1/responses", "/api/v1/responses/1"])
def test_reading_needs_a_live_token(client, path):
    assert_guarded(client, "get", path, write=False)


def test_one_response_carries_everything_a_crm_files(client, answer):
    response_id = answer(3, comment=LATE, customer_name="Østergaard Byg ApS")
    db.session.add(Answer(response_id=response_id, question_key="recommend", score=3))
    db.session.commit()
    stored = _response(response_id)
    body = client.get(f"/api/v1/responses/{response_id}", headers=bearer("read")).get_json()
    contact = stored.invitation.contact
    assert body["score"] == 3 and body["csi"] is None and body["comment"] == LATE
    assert body["answers"] == {"recommend": 3}
    assert body["sentiment"] == {"score": -0.7184, "label": "negative"}
    assert body["themes"] == ["delivery", "price"]
    assert body["customer"] == {"external_id": stored.invitation.customer.external_id,
                                "name": "Østergaard Byg ApS"}  # fmt: skip
    assert body["contact"] == {"id": contact.id, "email": contact.email, "language": "en"}
    assert body["wave_id"] == stored.wave_id
    assert body["survey_id"] == db.session.get(Wave, stored.wave_id).survey_id
    assert body["template_key"] == "nps" and body["template_version"] == 1
    assert body["answered_at"] == stored.answered_at.isoformat()
    assert body["updated_at"] == stored.updated_at.isoformat()


def test_the_stored_analysis_is_used_while_it_is_current(client, answer, app):
    response_id = answer(9, comment=LATE)
    analyse_pending(themes_file(current_app.config["FEEDBACK_TEMPLATES_DIR"]))
    db.session.commit()
    analysis = db.session.get(CommentAnalysis, response_id)
    analysis.sentiment = -0.25  # marks what the job stored, to tell it from a fresh analysis
    db.session.commit()
    headers = bearer("read")
    body = client.get(f"/api/v1/responses/{response_id}", headers=headers).get_json()
    assert body["sentiment"] == {"score": -0.25, "label": "negative"}
    assert body["themes"] == ["delivery", "price"]
    # The customer edits the comment: the stored analysis is stale until the job runs again.
    _response(response_id).comment = "Great service, friendly people."
    _response(response_id).updated_at = utcnow()
    db.session.commit()
    body = client.get(f"/api/v1/responses/{response_id}", headers=headers).get_json()
    assert body["sentiment"]["label"] == "positive" and body["themes"] == ["service", "staff"]


def test_an_answer_without_a_comment_has_no_sentiment(client, answer):
    response_id = answer(10)
    body = client.get(f"/api/v1/responses/{response_id}", headers=bearer("read")).get_json()
    assert body["sentiment"] is None and body["themes"] == [] and body["answers"] == {}


def test_filters(client, answer):
    ids = [answer(score) for score in (10, 6, 8)]
    first = _response(ids[0])
    headers = bearer("read")

    def listed(query):
        response = client.get(f"/api/v1/responses{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [row["id"] for row in response.get_json()["data"]]

    assert sorted(listed("")) == ids
    assert listed(f"?wave={first.wave_id}") == [ids[0]]
    survey_id = db.session.get(Wave, first.wave_id).survey_id
    assert listed(f"?survey={survey_id}") == [ids[0]]
    external_id = first.invitation.customer.external_id
    assert listed(f"?customer={external_id}") == [ids[0]]
    assert sorted(listed("?template=nps")) == ids and listed("?template=csi") == []
    _response(ids[1]).updated_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    since = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert listed(f"?updated_since={since}") == [ids[1]]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [("?updated_since=2026-12-01T10:00:00", 422, "updated_since"), ("?wave=abc", 422, "wave"),
     ("?survey=-1", 422, "survey"), ("?limit=0", 422, "limit"), ("?score=9", 422, "score"),
     ("?customer=K%00", 422, "customer"), ("?cursor=not-ours", 400, None),
     ("?updated_since=0001-01-01T00:00:00%2B14:00", 422, "updated_since")],
)  # fmt: skip
def test_bad_filters_are_problems(client, query, status, field):
    body = problem_of(client.get(f"/api/v1/responses{query}", headers=bearer("read")), status)
    if field:
        assert body["errors"][0]["field"] == field


@pytest.mark.parametrize("response_id", [404, 2**31, 10**12])
def test_an_unknown_response_is_404(client, response_id):
    problem_of(client.get(f"/api/v1/responses/{response_id}", headers=bearer("read")), 404)


def test_a_sync_across_inserts_misses_nothing_and_repeats_nothing(client, answer):
    start = utcnow() - timedelta(hours=5)
    before = [answer(score, answered_at=start + timedelta(minutes=n))
              for n, score in enumerate((9, 4, 7))]  # fmt: skip
    headers = bearer("read")
    seen: list[int] = []
    page = client.get("/api/v1/responses?limit=2", headers=headers).get_json()
    seen += [row["id"] for row in page["data"]]
    assert seen == before[:2]
    # Answers arrive, and an unseen one is edited, while the client is between pages.
    during = [answer(score) for score in (10, 2)]
    _response(before[2]).comment = "Changed my mind."
    _response(before[2]).updated_at = utcnow()
    db.session.commit()
    cursor = page["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/responses?limit=2&cursor={cursor}", headers=headers).get_json()
        seen += [row["id"] for row in page["data"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(before + during)
    assert len(seen) == len(set(seen))


def test_an_answer_edited_after_it_was_read_comes_again(client, answer):
    ids = [answer(score, answered_at=utcnow() - timedelta(hours=n)) for n, score in
           ((3, 9), (2, 8))]  # fmt: skip
    headers = bearer("read")
    page = client.get("/api/v1/responses?limit=1", headers=headers).get_json()
    assert [row["id"] for row in page["data"]] == [ids[0]]
    _response(ids[0]).score, _response(ids[0]).updated_at = 3, utcnow()
    db.session.commit()
    rest = client.get(f"/api/v1/responses?cursor={page['next_cursor']}", headers=headers)
    assert [(row["id"], row["score"]) for row in rest.get_json()["data"]] == [
        (ids[1], 8), (ids[0], 3)
    ]  # fmt: skip


def test_a_page_costs_the_same_statements_whatever_its_size(client, answer):
    headers = bearer("read")
    client.get("/api/v1/responses", headers=headers)  # the token's last use is noted once
    counts = []
    for batch in (2, 6):
        for score in range(batch):
            response_id = answer(score, comment=f"{LATE} ({score})")
            db.session.add(Answer(response_id=response_id, question_key="recommend", score=score))
        db.session.commit()
        with statements() as seen:
            response = client.get("/api/v1/responses?limit=100", headers=headers)
        assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 4  # the token, the responses, their answers (themes only if stored)
    analyse_pending()
    db.session.commit()
    with statements() as seen:
        client.get("/api/v1/responses?limit=100", headers=headers)
    assert len(seen) == counts[1] + 1  # plus the stored themes, in one IN query
    assert not db.session.scalars(select(Response.id).where(Response.comment == "")).all()
