"""The pages a customer reaches from an e-mail: answering (exactly once, never by a mere
GET), bad input of every kind, closed waves and unsubscribe."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses.models import Answer, Response
from feedback.responses.services import save_answers
from feedback.surveys.models import Invitation, Wave
from feedback.surveys.templates import load_templates

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _responses() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Response))


def _csrf(client, token) -> str:
    page = client.get(f"/s/{token}").get_data(as_text=True)
    return _META.search(page).group(1)


def test_link_from_the_email_shows_the_score_preselected_and_records_nothing(client, invite):
    token = invite()
    page = client.get(f"/s/{token}?score=9")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="da">' in html
    assert "Hvor sandsynligt er det, at du vil anbefale" in html
    assert 'value="9" checked' in html and 'data-record="9"' in html
    assert _responses() == 0
    assert db.session.scalar(select(Invitation.state)) == "pending"


def test_a_scanner_fetching_all_eleven_links_records_nothing(client, invite):
    token = invite()
    for score in range(11):
        assert client.get(f"/s/{token}?score={score}").status_code == 200
        assert client.head(f"/s/{token}?score={score}").status_code == 200
    assert _responses() == 0


def test_the_pages_own_post_records_the_score_and_a_change_updates_it(client, invite):
    token = invite()
    csrf = _csrf(client, token)
    headers = {"X-CSRFToken": csrf}
    first = client.post(f"/s/{token}/score", json={"score": "9"}, headers=headers)
    assert first.status_code == 200 and first.get_json() == {"saved": True, "score": 9}
    again = client.post(f"/s/{token}/score", json={"score": "6"}, headers=headers)
    assert again.get_json()["score"] == 6
    assert _responses() == 1
    response = db.session.scalar(select(Response))
    assert (response.score, response.language) == (6, "da")
    invitation = db.session.scalar(select(Invitation))
    assert invitation.state == "answered" and invitation.answered_at is not None
    # Copies without foreign keys of their own (see Response): they must be the invitation's.
    assert (response.wave_id, response.template_version_id) == (
        invitation.wave_id, invitation.wave.template_version_id)  # fmt: skip
    page = client.get(f"/s/{token}?score=6").get_data(as_text=True)
    assert "data-record" not in page  # already stored: the page does not post it again


def test_posts_without_the_pages_token_are_refused(client, invite):
    token = invite()
    client.get(f"/s/{token}")
    refused = client.post(f"/s/{token}/score", json={"score": "9"})
    assert refused.status_code == 400 and "expired" in refused.get_json()["error"]
    form = client.post(f"/s/{token}", data={"recommend": "9"})
    assert form.status_code == 400 and "expired" in form.get_data(as_text=True)
    assert _responses() == 0


def test_the_whole_form_saves_score_and_comment_then_thanks(client, invite):
    token = invite(language="sv", name="Åsa Ölund")
    csrf = _csrf(client, token)
    sent = client.post(
        f"/s/{token}",
        data={"csrf_token": csrf, "recommend": "3", "comment": "  Leveranserna kom sent.\r\n "},
    )
    assert sent.status_code == 303
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Tack! Dina svar är sparade." in thanks
    assert "Leveranserna kom sent." in thanks
    response = db.session.scalar(select(Response))
    assert (response.score, response.comment) == (3, "Leveranserna kom sent.")
    # A later score-only save keeps the comment.
    client.post(f"/s/{token}/score", json={"score": "4"}, headers={"X-CSRFToken": csrf})
    db.session.expire_all()
    assert db.session.scalar(select(Response.comment)) == "Leveranserna kom sent."


def test_customer_text_is_escaped_on_the_page(client, invite):
    token = invite()
    csrf = _csrf(client, token)
    client.post(f"/s/{token}", data={"csrf_token": csrf, "recommend": "5",
                                      "comment": "<script>alert(1)</script>"})  # fmt: skip
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_csi_answers_give_an_index(client, invite):
    token = invite(template="csi", language="en")
    csrf = _csrf(client, token)
    template = load_templates()["csi"]
    items = [q.key for q in template.questions if q.csi]
    data = {"csrf_token": csrf, **dict.fromkeys(items, "10")}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    response = db.session.scalar(select(Response))
    assert response.csi == pytest.approx(100.0)
    assert db.session.scalar(select(func.count()).select_from(Answer)) == len(items)


# bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/s/nope", "/s/" + "x" * 43, "/s/%00%ff", "/s/" + "a" * 300])
def test_unknown_links_get_a_friendly_404_in_all_four_languages(client, path):
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "We could not find this survey" in html and "Vi kunne ikke finde" in html
    assert "Vi hittade inte" in html and "Vi fant ikke" in html


@pytest.mark.parametrize("score", ["11", "-1", "abc", "9.5", "99999999999", "%C2%B2"])
def test_bad_preselected_scores_are_400_and_record_nothing(client, invite, score):
    token = invite()
    page = client.get(f"/s/{token}?score={score}")
    assert page.status_code == 400
    assert "Vælg venligst en vurdering på skalaen herunder." in page.get_data(as_text=True)
    csrf = _csrf(client, token)
    posted = client.post(f"/s/{token}/score", json={"score": score}, headers={"X-CSRFToken": csrf})
    assert posted.status_code == 400 and "score" in posted.get_json()["error"]
    assert _responses() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"score": "5", "question": "nonsense"}, "no scored question"),
        ({"score": "5", "question": ["x"]}, "question must be text"),
        ({}, "nothing to save"),
    ],
)
def test_bad_json_bodies_are_400(client, invite, body, message):
    token = invite()
    csrf = _csrf(client, token)
    answer = client.post(f"/s/{token}/score", json=body, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 400 and message in answer.get_json()["error"], answer.get_json()
    not_json = client.post(
        f"/s/{token}/score", data="{{{", content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )  # fmt: skip
    assert not_json.status_code == 400


def test_huge_or_unreadable_comments_are_400_and_save_nothing(client, invite):
    token = invite()
    csrf = _csrf(client, token)
    huge = client.post(f"/s/{token}", data={"csrf_token": csrf, "recommend": "5",
                                             "comment": "x" * 5001})  # fmt: skip
    assert huge.status_code == 400 and "longer than 5000" in huge.get_data(as_text=True)
    # Latin-1 bytes where UTF-8 belongs: the form cannot be read at all.
    body = f"csrf_token={quote(csrf)}&recommend=5&comment=".encode() + b"caf\xe9 \xff\xfe"
    bad_utf8 = client.post(
        f"/s/{token}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert bad_utf8.status_code == 400
    assert "could not be read" in bad_utf8.get_data(as_text=True)
    assert _responses() == 0


def test_a_closed_wave_says_so_in_the_contacts_language(client, invite):
    token = invite(language="nb")
    csrf = _csrf(client, token)
    wave = db.session.scalar(select(Wave))
    wave.status, wave.closed_at = "closed", utcnow() - timedelta(days=1)
    db.session.commit()
    page = client.get(f"/s/{token}?score=8")
    assert page.status_code == 410 and "Undersøkelsen er avsluttet" in page.get_data(as_text=True)
    posted = client.post(f"/s/{token}/score", json={"score": "8"}, headers={"X-CSRFToken": csrf})
    assert posted.status_code == 410
    form = client.post(f"/s/{token}", data={"csrf_token": csrf, "recommend": "8"})
    assert form.status_code == 410
    assert _responses() == 0


def test_public_pages_are_rate_limited(make_app, invite):
    token = invite()
    app = make_app(FEEDBACK_PUBLIC_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        codes = [client.get(f"/s/{token}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# exactly once under concurrency ----------------------------------------------------------


def test_twenty_simultaneous_submissions_give_one_response(app, invite, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises writers; the race is real on PostgreSQL")
    token = invite()
    barrier = threading.Barrier(20)
    errors = []

    def submit(score: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                save_answers(token, scores={"recommend": str(score % 11)}, comment=f"#{score}")
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _responses() == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1


# unsubscribe ----------------------------------------------------------------------------


def test_unsubscribe_get_asks_and_post_opts_out(client, invite):
    token = invite()
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and "Afmeld" in page.get_data(as_text=True)
    assert db.session.scalar(select(Contact.status)) == "active"
    done = client.post(f"/u/{token}")
    assert done.status_code == 200 and "Du er afmeldt" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Contact.status)) == "opted_out"


def test_rfc_8058_one_click_post_needs_no_page(client, invite):
    token = invite(language="en")
    done = client.post(
        f"/u/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    assert db.session.scalar(select(Contact.status)) == "opted_out"
    assert client.post(f"/u/{token}").status_code == 200  # again: still fine


def test_unsubscribe_with_a_bad_token_is_404(client):
    assert client.get("/u/nope").status_code == 404
    assert client.post("/u/" + "z" * 43).status_code == 404


def test_one_tap_on_a_csi_survey_uses_its_own_scale(client, invite):
    token = invite(template="csi", language="sv")
    csrf = _csrf(client, token)
    headers = {"X-CSRFToken": csrf}
    zero = client.post(f"/s/{token}/score", json={"score": "0"}, headers=headers)
    assert zero.status_code == 400 and "from 1 to 10" in zero.get_json()["error"]
    assert _responses() == 0
    ten = client.post(f"/s/{token}/score", json={"score": "10"}, headers=headers)
    assert ten.status_code == 200 and ten.get_json()["score"] == 10
    response = db.session.scalar(select(Response))
    assert response.csi is not None  # the main CSI question alone already gives an index
