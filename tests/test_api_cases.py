"""/api/v1/cases: who reads which cases, filters and paging, and changes made through the
case services as the person the token acts for (the case page's rules)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback.cases.models import Case, CaseEvent
from feedback.dbtypes import utcnow
from feedback.extensions import db
from tests.support.api import assert_guarded, bearer, problem_of


@pytest.fixture
def people(create_user):
    return {
        "owner": create_user("owner@nordlys.example.com", team="Key accounts", name="Ole"),
        "mate": create_user("mate@nordlys.example.com", team="Key accounts"),
        "support": create_user("support@nordlys.example.com", team="Customer support"),
        "manager": create_user("boss@nordlys.example.com", role="manager", team="Management"),
    }


@pytest.fixture
def cases(people, create_customer):
    """mine: the owner's, due tomorrow; queue: the support team's queue, a day overdue;
    closed: resolved by support a week ago."""
    now = utcnow()
    owner, support = people["owner"], people["support"]

    def make(name, **values):
        customer = create_customer(external_id=name.upper(), name=f"{name} A/S")
        case = Case(customer_id=customer.id, rule_key="a_detractor", title=f"Call {name}",
                    priority="high", **values)  # fmt: skip
        db.session.add(case)
        db.session.commit()
        return case

    made = {
        "mine": make("mine", assignee_id=owner.id, team_id=owner.team_id,
                     due_at=now + timedelta(days=1), created_at=now - timedelta(days=1),
                     themes=",delivery,"),
        "queue": make("queue", team_id=support.team_id, due_at=now - timedelta(days=1),
                      created_at=now - timedelta(days=3)),
        "closed": make("closed", assignee_id=support.id, team_id=support.team_id,
                       status="resolved", outcome="Credited the invoice.",
                       due_at=now - timedelta(days=8), created_at=now - timedelta(days=10),
                       closed_at=now - timedelta(days=7)),
    }  # fmt: skip
    db.session.add(CaseEvent(case_id=made["closed"].id, actor_id=support.id, kind="resolved",
                             detail="new → resolved: Credited the invoice."))  # fmt: skip
    db.session.commit()
    return made


def _ids(client, headers, query="") -> list[int]:
    response = client.get(f"/api/v1/cases{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(row["id"] for row in response.get_json()["data"])


def _events(case: Case) -> list[str]:
    db.session.expire_all()
    return [event.kind for event in db.session.get(Case, case.id).events]


@pytest.mark.parametrize(
    ("method", "path", "write"),
    [("get", "/api/v1/cases", False), ("get", "/api/v1/cases/1", False),
     ("patch", "/api/v1/cases/1", True)],
)  # fmt: skip
def test_every_endpoint_needs_a_live_token_with_the_scope(client, cases, method, path, write):
    kwargs = {"json": {"status": "in_progress"}} if method == "patch" else {}
    assert_guarded(client, method, path, write=write, **kwargs)
    assert _events(cases["mine"]) == []


def test_an_integration_token_reads_every_case(client, cases, people):
    headers = bearer("read")
    assert _ids(client, headers) == sorted(case.id for case in cases.values())
    closed = cases["closed"]
    body = client.get(f"/api/v1/cases/{closed.id}", headers=headers).get_json()
    assert body["status"] == "resolved" and body["outcome"] == "Credited the invoice."
    assert body["customer"] == {"external_id": "CLOSED", "name": "closed A/S"}
    assert body["assignee"]["email"] == people["support"].email
    assert body["team"] == "Customer support" and body["breached"] is False
    assert [(e["kind"], e["actor_email"]) for e in body["events"]] == [
        ("resolved", people["support"].email)
    ]
    queue = client.get(f"/api/v1/cases/{cases['queue'].id}", headers=headers).get_json()
    assert queue["assignee"] is None and queue["breached"] is True


def test_a_token_acting_for_an_agent_reads_what_their_queue_shows(client, cases, people):
    headers = bearer("read", acts_as=people["mate"].email)  # the owner's teammate
    assert _ids(client, headers) == [cases["mine"].id]
    assert client.get(f"/api/v1/cases/{cases['mine'].id}", headers=headers).status_code == 200
    problem_of(client.get(f"/api/v1/cases/{cases['queue'].id}", headers=headers), 404)
    support = bearer("read", acts_as=people["support"].email)
    assert _ids(client, support) == sorted([cases["queue"].id, cases["closed"].id])
    manager = bearer("read", acts_as=people["manager"].email)
    assert len(_ids(client, manager)) == 3


def test_filters(client, cases, people):
    headers, ids = bearer("read"), {name: case.id for name, case in cases.items()}
    assert _ids(client, headers, "?status=open") == sorted([ids["mine"], ids["queue"]])
    assert _ids(client, headers, "?status=closed") == [ids["closed"]]
    assert _ids(client, headers, "?status=resolved") == [ids["closed"]]
    assert _ids(client, headers, "?owner=OWNER@nordlys.example.com") == [ids["mine"]]
    assert _ids(client, headers, "?team=Customer%20support") == sorted(
        [ids["queue"], ids["closed"]]
    )
    assert _ids(client, headers, "?customer=QUEUE") == [ids["queue"]]
    assert _ids(client, headers, "?breached=true") == [ids["queue"]]
    assert _ids(client, headers, "?breached=false") == sorted([ids["mine"], ids["closed"]])
    since = (utcnow() - timedelta(days=2)).isoformat()
    assert _ids(client, headers, f"?opened_since={since.replace('+00:00', 'Z')}") == [ids["mine"]]
    row = client.get("/api/v1/cases?customer=MINE", headers=headers).get_json()["data"][0]
    assert row["themes"] == ["delivery"] and row["priority"] == "high"


@pytest.mark.parametrize(
    ("query", "status"),
    [("?status=pending", 422), ("?breached=maybe", 422), ("?opened_since=2026-12-01", 422),
     ("?cursor=abc", 400), ("?limit=1001", 422), ("?team=%00", 422),
     ("?opened_since=9999-12-31T23:59:59-14:00", 422)],
)  # fmt: skip
def test_bad_filters_are_problems(client, query, status):
    problem_of(client.get(f"/api/v1/cases{query}", headers=bearer("read")), status)


def test_paging_follows_the_last_change(client, cases, people):
    headers = bearer("read", name="crm")
    first = client.get("/api/v1/cases?limit=2", headers=headers).get_json()
    seen = [row["id"] for row in first["data"]]
    writer = bearer(acts_as=people["owner"].email)
    client.patch(f"/api/v1/cases/{cases['mine'].id}", headers=writer,
                 json={"status": "in_progress"})  # fmt: skip
    rest = client.get(f"/api/v1/cases?limit=2&cursor={first['next_cursor']}", headers=headers)
    seen += [row["id"] for row in rest.get_json()["data"]]
    assert set(seen) == {case.id for case in cases.values()}
    assert seen[-1] == cases["mine"].id  # changed while paging: it comes (again) at the end


def test_the_owner_works_a_case_to_resolution(client, cases, people):
    headers, case = bearer(acts_as=people["owner"].email), cases["mine"]
    response = client.patch(f"/api/v1/cases/{case.id}", headers=headers,
                            json={"status": "in_progress", "note": "Called Søren."})  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "in_progress"
    body = client.patch(f"/api/v1/cases/{case.id}", headers=headers, json={
        "status": "resolved", "outcome": "Credit note sent.", "root_cause": "delivery",
    }).get_json()  # fmt: skip
    assert body["status"] == "resolved" and body["outcome"] == "Credit note sent."
    assert body["root_cause"] == "delivery" and body["closed_at"]
    assert [(e["kind"], e["actor_email"]) for e in body["events"]] == [
        ("status", people["owner"].email), ("comment", people["owner"].email),
        ("resolved", people["owner"].email),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [({"status": "resolved"}, "an outcome is required"),
     ({"status": "resolved", "outcome": "Done", "root_cause": "weather"}, "unknown root cause"),
     ({"outcome": "Done"}, "given when closing"),
     ({"assignee": "ghost@nordlys.example.com"}, "there is no user"),
     ({"team": "Nobody"}, "there is no team")],
)  # fmt: skip
def test_refused_changes_are_422_and_change_nothing(client, cases, people, change, message):
    headers, case = bearer(acts_as=people["owner"].email), cases["mine"]
    body = problem_of(client.patch(f"/api/v1/cases/{case.id}", headers=headers, json=change),
                      422)  # fmt: skip
    assert message in body["detail"]
    assert _events(case) == [] and db.session.get(Case, case.id).status == "new"


@pytest.mark.parametrize(
    "change",
    [{}, {"status": "done"}, {"assignee": "a@b.example.com", "team": "Key accounts"},
     {"note": 5}, {"priority": "low"}, {"assignee": "a\x00@b.example.com"}],
)  # fmt: skip
def test_malformed_changes_are_422(client, cases, people, change):
    headers = bearer(acts_as=people["owner"].email)
    problem_of(client.patch(f"/api/v1/cases/{cases['mine'].id}", headers=headers, json=change),
               422)  # fmt: skip


def test_reassigning_to_a_person_or_a_team(client, cases, people):
    headers, case = bearer(acts_as=people["manager"].email), cases["queue"]
    body = client.patch(f"/api/v1/cases/{case.id}", headers=headers,
                        json={"assignee": "Support@nordlys.example.com"}).get_json()  # fmt: skip
    assert body["assignee"]["email"] == people["support"].email
    assert body["team"] == "Customer support"
    body = client.patch(f"/api/v1/cases/{case.id}", headers=headers,
                        json={"team": "Key accounts"}).get_json()  # fmt: skip
    assert body["assignee"] is None and body["team"] == "Key accounts"
    assert [e["kind"] for e in body["events"]] == ["assigned", "assigned"]


def test_an_agent_token_cannot_change_another_teams_case(client, cases, people):
    headers, case = bearer(acts_as=people["owner"].email), cases["queue"]
    body = problem_of(client.patch(f"/api/v1/cases/{case.id}", headers=headers,
                                   json={"status": "in_progress"}), 403)  # fmt: skip
    assert "owner@nordlys.example.com may not change" in body["detail"]
    assert db.session.get(Case, case.id).status == "new" and _events(case) == []


def test_a_teammate_may_read_but_not_change_a_colleagues_case(client, cases, people):
    headers, case = bearer(acts_as=people["mate"].email), cases["mine"]
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    problem_of(client.patch(f"/api/v1/cases/{case.id}", headers=headers,
                            json={"note": "I can help."}), 403)  # fmt: skip
    assert _events(case) == []


def test_a_token_acting_for_nobody_cannot_change_cases(client, cases):
    response = client.patch(f"/api/v1/cases/{cases['mine'].id}", headers=bearer("write"),
                            json={"status": "in_progress"})  # fmt: skip
    assert "acts for nobody" in problem_of(response, 403)["detail"]


def test_an_unknown_case_is_404(client, cases, people):
    headers = bearer(acts_as=people["manager"].email)
    problem_of(client.get("/api/v1/cases/999", headers=headers), 404)
    problem_of(client.patch("/api/v1/cases/999", headers=headers, json={"note": "x"}), 404)
    problem_of(client.patch(f"/api/v1/cases/{2**40}", headers=headers, json={"note": "x"}), 404)


def test_a_retried_change_with_the_same_key_is_made_once(client, cases, people):
    headers = {**bearer(acts_as=people["owner"].email), "Idempotency-Key": "crm-7781-1"}
    path, change = f"/api/v1/cases/{cases['mine'].id}", {"note": "Left a voicemail."}
    first = client.patch(path, headers=headers, json=change)
    second = client.patch(path, headers=headers, json=change)
    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _events(cases["mine"]) == ["comment"]
