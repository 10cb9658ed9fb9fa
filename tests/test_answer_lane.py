"""The answer lane (PostgreSQL): the one-tap POST saved in front of Flask.

It must take only what Flask would accept and save the same way, and hand everything else
to Flask untouched. The strongest check is a comparison: the same requests sent to an app
with the lane and to one without give the same status, the same body and the same rows."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from flask import request_started
from sqlalchemy import func, select, text

from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses.lane import AnswerLane
from feedback.responses.models import Answer, Response
from feedback.surveys.models import Invitation, InvitationEvent, Wave

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("the lane runs on PostgreSQL only (its statement is PostgreSQL's)")


@pytest.fixture
def flask_calls(app):
    """Paths of the requests that reached Flask (the lane's own answers never do)."""
    calls: list[str] = []

    def record(sender, **extra):
        from flask import request

        calls.append(request.path)

    request_started.connect(record)
    yield calls
    request_started.disconnect(record)


def _page_token(client, token: str, **kwargs) -> str:
    """The page's token, fetched as a browser's own visit (a fresh app context: the test's
    context would otherwise hand every client the token cached on `g` by the first)."""
    with client.application.app_context():
        page = client.get(f"/s/{token}", **kwargs).get_data(as_text=True)
    return _META.search(page).group(1)


def _rows(token: str) -> tuple:
    """What an answer left behind for this invitation, comparable across two runs."""
    db.session.remove()
    invitation = db.session.scalar(select(Invitation).where(Invitation.token == token))
    response = db.session.scalar(select(Response).where(Response.invitation_id == invitation.id))
    answers = (
        sorted(
            db.session.execute(
                select(Answer.question_key, Answer.score).where(Answer.response_id == response.id)
            ).all()
        )  # fmt: skip
        if response
        else []
    )
    events = db.session.scalar(
        select(func.count()).where(
            InvitationEvent.invitation_id == invitation.id, InvitationEvent.kind == "answered"
        )
    )
    return (invitation.state, response and response.score, answers, events)


def test_the_lane_stands_in_front_of_flask_on_postgresql_only(app, make_app):
    assert isinstance(app.wsgi_app, AnswerLane)
    assert not isinstance(make_app(FEEDBACK_ANSWER_LANE=False).wsgi_app, AnswerLane)


def test_a_one_tap_answer_is_saved_by_the_lane_alone(client, invite, flask_calls):
    token = invite()
    csrf = _page_token(client, token)
    flask_calls.clear()
    saved = client.post(f"/s/{token}/score", json={"question": "recommend", "score": "9"},
                        headers={"X-CSRFToken": csrf})  # fmt: skip
    assert saved.status_code == 200 and saved.get_json() == {"saved": True, "score": 9}
    assert saved.content_type == "application/json"
    assert flask_calls == []
    changed = client.post(f"/s/{token}/score", json={"score": 4}, headers={"X-CSRFToken": csrf})
    assert changed.get_json() == {"saved": True, "score": 4} and flask_calls == []
    assert _rows(token) == ("answered", 4, [("recommend", 4)], 1)
    assert _copies_match(token)


def _copies_match(token: str) -> bool:
    """The response's wave and template version are its invitation's (they have no foreign
    keys of their own, see Response)."""
    same_wave = Response.wave_id == Wave.id
    same_version = Response.template_version_id == Wave.template_version_id
    row = db.session.execute(
        select(same_wave, same_version)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Wave, Wave.id == Invitation.wave_id)
        .where(Invitation.token == token)
    ).one()
    return all(row)


# (label, body or None for a form post, headers beyond the page's token, how to tamper)
CASES = [
    ("score as text", {"score": "9"}, None),
    ("score as number", {"score": 7}, None),
    ("padded score", {"score": " 10 "}, None),
    ("main question by key", {"question": "recommend", "score": "0"}, None),
    ("unknown question", {"question": "nonsense", "score": "5"}, None),
    ("text question", {"question": "reason", "score": "5"}, None),
    ("score 11", {"score": "11"}, None),
    ("score -1", {"score": "-1"}, None),
    ("score abc", {"score": "abc"}, None),
    ("score true", {"score": True}, None),
    ("empty body", {}, None),
    ("a list", ["9"], None),
    ("no page token", {"score": "9"}, "no-csrf"),
    ("a forged page token", {"score": "9"}, "forged-csrf"),
    ("another browser's token", {"score": "9"}, "other-session"),
    ("no cookie", {"score": "9"}, "no-cookie"),
    ("broken JSON", b"{{{", None),
    ("bad UTF-8", b'{"score": "\xff9"}', None),
    ("a form post", "form", None),
    ("unknown link", {"score": "9"}, "unknown-token"),
    ("closed wave", {"score": "9"}, "closed"),
]


def _send(app, token: str, body, tamper):
    client = app.test_client()
    csrf = _page_token(client, token)
    if tamper == "closed":
        db.session.execute(text("UPDATE waves SET status = 'closed', closed_at = :at"),
                           {"at": utcnow() - timedelta(hours=1)})  # fmt: skip
        db.session.commit()
    headers = {"X-CSRFToken": csrf}
    if tamper == "no-csrf":
        headers = {}
    elif tamper == "forged-csrf":
        headers = {"X-CSRFToken": csrf[:-4] + "AAAA"}
    elif tamper == "other-session":
        other = app.test_client()
        headers = {"X-CSRFToken": _page_token(other, token)}
    elif tamper == "no-cookie":
        client.delete_cookie("session")
    path = f"/s/{'x' * 43 if tamper == 'unknown-token' else token}/score"
    if body == "form":
        return client.post(path, data={"score": "9", "csrf_token": csrf})
    if isinstance(body, bytes):
        return client.post(path, data=body, content_type="application/json", headers=headers)
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize(("label", "body", "tamper"), CASES, ids=[c[0] for c in CASES])
def test_the_lane_answers_exactly_as_flask_does(app, make_app, invite, label, body, tamper):
    """Each request goes once to the app with the lane and once (on a second, identical
    invitation) to an app without it: same status, same body, same rows."""
    plain = make_app(FEEDBACK_ANSWER_LANE=False)
    outcomes = []
    for application in (app, plain):
        token = invite()
        with application.app_context():
            response = _send(application, token, body, tamper)
        outcomes.append((response.status_code, response.get_data(as_text=True), _rows(token)))
    assert outcomes[0] == outcomes[1], label
    assert outcomes[0][0] < 500


def test_a_declined_request_reaches_flask_with_its_body(client, invite, flask_calls):
    """A driver question is Flask's to save: the lane read the body, and hands it back."""
    token = invite(template="relationship")
    csrf = _page_token(client, token)
    key = "delivery"
    flask_calls.clear()
    saved = client.post(f"/s/{token}/score", json={"question": key, "score": "8"},
                        headers={"X-CSRFToken": csrf})  # fmt: skip
    assert saved.status_code == 200, saved.get_json()
    assert flask_calls == [f"/s/{token}/score"]
    assert (key, 8) in _rows(token)[2]
    assert _copies_match(token)


def test_the_lane_and_flask_share_one_rate_limit_bucket(make_app, invite, flask_calls):
    app = make_app(FEEDBACK_PUBLIC_RATE_LIMIT="3 per minute")
    tokens = [invite() for _ in range(3)]
    with app.app_context():
        client = app.test_client()
        pages = [_page_token(client, token) for token in tokens]  # page GETs: another bucket
        flask_calls.clear()
        form = client.post(f"/s/{tokens[0]}/score", data={"score": "5", "csrf_token": pages[0]})
        assert form.status_code == 200 and flask_calls  # counted by Flask
        flask_calls.clear()
        codes = [
            client.post(
                f"/s/{t}/score", json={"score": "9"}, headers={"X-CSRFToken": c}
            ).status_code
            for t, c in zip(tokens[1:] + tokens[:1], pages[1:] + pages[:1], strict=True)
        ]
    assert codes == [200, 200, 429]
    assert len(flask_calls) == 1  # only the refused one went on to Flask, which said 429


def test_over_https_the_referrer_must_be_the_site(client, invite, flask_calls):
    token = invite()
    csrf = _page_token(client, token, base_url="https://survey.example")
    flask_calls.clear()
    kwargs = {"json": {"score": "6"}, "base_url": "https://survey.example"}
    missing = client.post(f"/s/{token}/score", headers={"X-CSRFToken": csrf}, **kwargs)
    assert missing.status_code == 400 and flask_calls  # Flask-WTF refused it, not the lane
    flask_calls.clear()
    good = client.post(f"/s/{token}/score", **kwargs, headers={
        "X-CSRFToken": csrf, "Referer": f"https://survey.example/s/{token}"})  # fmt: skip
    assert good.status_code == 200 and flask_calls == []


def test_a_broken_connection_costs_nothing_but_a_detour(client, invite, flask_calls):
    tokens = [invite(), invite(), invite()]
    csrf = [_page_token(client, token) for token in tokens]
    post = lambda n: client.post(f"/s/{tokens[n]}/score", json={"score": "3"},  # noqa: E731
                                 headers={"X-CSRFToken": csrf[n]})  # fmt: skip
    assert post(0).status_code == 200
    killed = db.session.scalar(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'feedback-answer-lane'"))  # fmt: skip
    assert killed >= 1
    flask_calls.clear()
    assert post(1).status_code == 200 and len(flask_calls) == 1  # Flask saved it
    flask_calls.clear()
    assert post(2).status_code == 200 and flask_calls == []  # a fresh lane connection
    assert [_rows(t)[1] for t in tokens] == [3, 3, 3]


def test_twenty_simultaneous_taps_through_the_lane_give_one_response(app, invite, flask_calls):
    token = invite()
    clients = [app.test_client() for _ in range(20)]
    pages = [_page_token(c, token) for c in clients]
    barrier = threading.Barrier(20)
    codes = []

    def tap(n: int) -> None:
        barrier.wait()
        answer = clients[n].post(f"/s/{token}/score", json={"score": str(n % 11)},
                                 headers={"X-CSRFToken": pages[n]})  # fmt: skip
        codes.append(answer.status_code)

    flask_calls.clear()
    threads = [threading.Thread(target=tap, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 20 and flask_calls == []
    state, score, answers, events = _rows(token)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert state == "answered" and events == 1 and answers == [("recommend", score)]
