"""/api/v1/surveys and /waves: reading them with their counts, creating a draft wave and
sending it through the staff pages' services, under the token's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.surveys.models import Invitation, InvitationEvent, Wave
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates
from tests.support.api import assert_guarded, bearer, problem_of


@pytest.fixture
def survey():
    made = create_survey("Relationship NPS 2026", "nps", templates=load_templates(), actor=None)
    db.session.commit()
    return made


@pytest.fixture
def customers(create_customer):
    """Two Danish customers with one contact each."""
    made = []
    for number in (1, 2):
        customer = create_customer(external_id=f"K{number}", language="da")
        db.session.add(Contact(customer_id=customer.id, email=f"indkob@k{number}.test",
                               name=f"Kontakt {number}", language="da"))  # fmt: skip
        made.append(customer)
    db.session.commit()
    return made


def _wave_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Wave))


@pytest.mark.parametrize(
    ("method", "path", "write"),
    [("get", "/api/v1/surveys", False), ("get", "/api/v1/surveys/1", False),
     ("post", "/api/v1/surveys/1/waves", True), ("get", "/api/v1/waves", False),
     ("get", "/api/v1/waves/1", False), ("post", "/api/v1/waves/1/send", True)],
)  # fmt: skip
def test_every_endpoint_needs_a_live_token_with_the_scope(client, survey, method, path, write):
    kwargs = {"json": {}} if method == "post" else {}
    assert_guarded(client, method, path, write=write, **kwargs)
    assert _wave_count() == 0


def test_surveys_list_and_one_survey_with_its_waves(client, survey, customers):
    wave = create_wave(survey, audience={"classes": ["A"]}, actor=None)
    db.session.commit()
    headers = bearer("read")
    body = client.get("/api/v1/surveys", headers=headers).get_json()
    assert body["next_cursor"] is None
    assert [(s["id"], s["name"], s["template_key"], s["wave_count"]) for s in body["data"]] == [
        (survey.id, "Relationship NPS 2026", "nps", 1)
    ]
    detail = client.get(f"/api/v1/surveys/{survey.id}", headers=headers).get_json()
    assert [w["id"] for w in detail["waves"]] == [wave.id]
    assert detail["waves"][0]["status"] == "draft"
    assert detail["waves"][0]["audience"]["classes"] == ["A"]
    assert client.get("/api/v1/surveys?template=csi", headers=headers).get_json()["data"] == []


def test_wave_counts_follow_the_funnel(client, survey, customers):
    wave = create_wave(survey, audience={}, actor=None)
    db.session.commit()
    headers = bearer()
    assert client.post(f"/api/v1/waves/{wave.id}/send", headers=headers).status_code == 200
    first, second = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    first.state, second.state = "delivered", "bounced"
    db.session.add(InvitationEvent(invitation_id=first.id, kind="open"))
    db.session.commit()
    body = client.get(f"/api/v1/waves/{wave.id}", headers=headers).get_json()
    assert body["counts"] == {"invited": 2, "pending": 0, "delivered": 1, "opened": 1,
                              "answered": 0, "bounced": 1, "failed": 0}  # fmt: skip
    assert body["status"] == "sending" and body["sent_at"] and body["template_version"] == 1


def test_waves_filter_by_survey_and_status_and_page_by_id(client, survey, customers):
    other = create_survey("CSI 2026", "csi", templates=load_templates(), actor=None)
    ids = [create_wave(s, audience={}, actor=None).id for s in (survey, survey, other)]
    db.session.get(Wave, ids[1]).status = "closed"
    db.session.commit()
    headers = bearer("read")

    def listed(query):
        return [w["id"] for w in client.get(f"/api/v1/waves{query}", headers=headers)
                .get_json()["data"]]  # fmt: skip

    assert listed(f"?survey={survey.id}") == ids[:2]
    assert listed("?status=closed") == [ids[1]]
    assert listed(f"?survey={other.id}&status=draft") == [ids[2]]
    page = client.get("/api/v1/waves?limit=2", headers=headers)
    assert [w["id"] for w in page.get_json()["data"]] == ids[:2]
    assert 'rel="next"' in page.headers["Link"]
    rest = client.get(f"/api/v1/waves?limit=2&cursor={page.get_json()['next_cursor']}",
                      headers=headers).get_json()  # fmt: skip
    assert [w["id"] for w in rest["data"]] == ids[2:] and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/surveys/999", 404), ("/api/v1/waves/999", 404),
     ("/api/v1/waves/99999999999", 404), ("/api/v1/waves?status=sent", 422),
     ("/api/v1/waves?survey=0", 422), ("/api/v1/waves?cursor=forged", 400),
     ("/api/v1/waves?colour=red", 422)],
)  # fmt: skip
def test_bad_reads_are_problems(client, path, status):
    problem_of(client.get(path, headers=bearer("read")), status)


def test_a_cursor_of_another_list_is_refused(client, survey):
    for _ in range(2):
        create_wave(survey, audience={}, actor=None)
    db.session.commit()
    headers = bearer("read")
    cursor = client.get("/api/v1/waves?limit=1", headers=headers).get_json()["next_cursor"]
    body = problem_of(client.get(f"/api/v1/surveys?cursor={cursor}", headers=headers), 400)
    assert "another list" in body["detail"]


def test_creating_a_draft_wave_uses_the_pages_rules(client, survey, customers, create_user):
    owner = create_user("saelger@firma.example.com")
    send_at = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    response = client.post(
        f"/api/v1/surveys/{survey.id}/waves", headers=bearer(),
        json={"classes": ["a"], "languages": ["da"], "owners": [owner.email],
              "customer_external_ids": ["K1", "K2"], "send_at": send_at.isoformat(),
              "reminder_days": [2, 5], "close_after_days": 10},
    )  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/waves/{body['id']}")
    assert body["status"] == "draft" and body["reminder_days"] == [2, 5]
    assert body["audience"] == {"classes": ["A"], "programme": None, "languages": ["da"],
                                "owners": [owner.email], "customer_count": 2}  # fmt: skip
    wave = db.session.get(Wave, body["id"])
    assert wave.send_at == send_at and wave.closes_at == send_at + timedelta(days=10)
    assert wave.created_by_id is None  # a token acting for nobody works as the CLI does


@pytest.mark.parametrize(
    ("payload", "message"),
    [({"classes": ["X"]}, "unknown class X"),
     ({"customer_external_ids": ["K1", "NOPE"]}, "1 unknown customer id(s): NOPE"),
     ({"owners": ["nobody@firma.example.com"]}, "no user with e-mail 'nobody@firma.example.com'"),
     ({"reminder_days": [7, 3]}, "reminder days must be increasing"),
     ({"reminder_days": [3, 20]}, "must come before the wave closes")],
)  # fmt: skip
def test_the_services_refusals_are_422_with_their_message(client, survey, customers, payload,
                                                          message):  # fmt: skip
    response = client.post(f"/api/v1/surveys/{survey.id}/waves", headers=bearer(), json=payload)
    assert message in problem_of(response, 422)["detail"]
    assert _wave_count() == 0


@pytest.mark.parametrize(
    "payload",
    [{"send_at": "2026-12-24T09:00:00"}, {"close_after_days": 0}, {"reminder_days": "3,7"},
     {"classes": "A"}, {"send_at": "9999-12-31T00:00:00Z"}, {"status": "open"},
     {"owners": ["a\x00@b.example.com"]}, {"send_at": "0001-01-01T00:00:00+14:00"}],
)  # fmt: skip
def test_malformed_wave_bodies_name_the_field(client, survey, payload):
    response = client.post(f"/api/v1/surveys/{survey.id}/waves", headers=bearer(), json=payload)
    body = problem_of(response, 422)
    assert body["errors"][0]["field"] == next(iter(payload))
    assert _wave_count() == 0


def test_a_wave_for_an_unknown_survey_is_404(client):
    problem_of(client.post("/api/v1/surveys/42/waves", headers=bearer(), json={}), 404)


def test_a_token_acting_for_an_agent_may_not_create_or_send(client, survey, create_user):
    agent = create_user(role="agent")
    headers = bearer(acts_as=agent.email)
    body = problem_of(client.post(f"/api/v1/surveys/{survey.id}/waves", headers=headers,
                                  json={}), 403)  # fmt: skip
    assert "not a manager" in body["detail"]
    wave = create_wave(survey, audience={}, actor=None)
    db.session.commit()
    problem_of(client.post(f"/api/v1/waves/{wave.id}/send", headers=headers), 403)
    assert db.session.get(Wave, wave.id).status == "draft"


def test_a_manager_token_creates_as_that_manager(client, survey, create_user):
    manager = create_user(role="manager")
    response = client.post(f"/api/v1/surveys/{survey.id}/waves",
                           headers=bearer(acts_as=manager.email), json={})  # fmt: skip
    assert response.status_code == 201
    assert db.session.get(Wave, response.get_json()["id"]).created_by_id == manager.id


def test_a_retried_creation_with_the_same_key_makes_one_wave(client, survey):
    headers = {**bearer(), "Idempotency-Key": "wave-2026-12-a"}
    path, payload = f"/api/v1/surveys/{survey.id}/waves", {"classes": ["A", "B"]}
    first = client.post(path, headers=headers, json=payload)
    second = client.post(path, headers=headers, json=payload)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert _wave_count() == 1
    other = client.post(path, headers=headers, json={"classes": ["C"]})
    problem_of(other, 422)  # the same key for another request
    assert _wave_count() == 1


def test_sending_a_draft_then_again(client, survey, customers):
    wave = create_wave(survey, audience={}, actor=None)
    db.session.commit()
    headers = bearer()
    response = client.post(f"/api/v1/waves/{wave.id}/send", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "sending" and body["counts"]["invited"] == 2
    assert body["counts"]["pending"] == 2
    again = problem_of(client.post(f"/api/v1/waves/{wave.id}/send", headers=headers), 409)
    assert again["detail"] == f"wave {wave.id} is sending; only a draft can be sent"
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 2


def test_a_wave_with_a_send_time_ahead_is_scheduled(client, survey, customers):
    wave = create_wave(survey, audience={}, actor=None, send_at=utcnow() + timedelta(days=2))
    db.session.commit()
    body = client.post(f"/api/v1/waves/{wave.id}/send", headers=bearer()).get_json()
    assert body["status"] == "scheduled" and body["counts"]["invited"] == 0


def test_sending_an_unknown_wave_is_404(client):
    problem_of(client.post("/api/v1/waves/77/send", headers=bearer()), 404)
