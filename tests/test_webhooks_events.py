"""Each webhook event is written by its real trigger, in the trigger's transaction, with no
more personal data than it needs; history imports and rolled-back changes write none."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from feedback.cases.models import Case
from feedback.cases.services import change_status
from feedback.customers.models import Contact, SegmentRun
from feedback.dbtypes import utcnow
from feedback.delivery.backends.outbox import OutboxBackend
from feedback.extensions import db
from feedback.outbox import EVENT_TYPES, OutboxEvent
from feedback.responses import one_tap, services
from feedback.risk.models import ChurnRun, ChurnScore
from feedback.routing.engine import route_pending
from feedback.routing.rules import load_rules
from feedback.surveys.models import Invitation


def _events(type: str | None = None) -> list[OutboxEvent]:
    db.session.expire_all()
    query = select(OutboxEvent).order_by(OutboxEvent.id)
    if type:
        query = query.where(OutboxEvent.type == type)
    return list(db.session.scalars(query))


def _no_contact_data(event: OutboxEvent) -> None:
    text = json.dumps(event.payload, ensure_ascii=False)
    for contact in db.session.scalars(select(Contact)):
        assert contact.email not in text
        assert not contact.name or contact.name not in text


def _shape(event: OutboxEvent, type: str) -> dict:
    payload = event.payload
    assert set(payload) == {"type", "timestamp", "data"} and payload["type"] == type
    assert payload["timestamp"].endswith("Z") and "T" in payload["timestamp"]
    _no_contact_data(event)
    return payload["data"]


def test_a_survey_answer_is_created_then_updated_only_when_it_changes(invite):
    token = invite(name="Søren Østergaard")
    services.save_answers(token, scores={"": "3"})
    db.session.commit()
    (created,) = _events()
    data = _shape(created, "response.created")
    assert created.subject == f"response:{data['response']['id']}"
    assert data["response"]["score"] == 3 and data["response"]["template"] == "nps"
    assert data["customer"]["name"] == "Østergaard Byg ApS"
    assert data["url"] == f"http://127.0.0.1:5000/customers/{data['customer']['external_id']}"
    assert set(data["response"]) == {"id", "score", "csi", "comment", "language", "wave_id",
                                     "template", "answered_at", "updated_at"}  # fmt: skip

    services.save_answers(token, scores={"": "3"})  # the same again: nothing new
    db.session.commit()
    assert len(_events()) == 1
    services.save_answers(token, scores={"": "3"}, comment="Leveringen var for sen")
    db.session.commit()
    services.save_answers(token, scores={"": "6"})
    db.session.commit()
    updates = _events("response.updated")
    assert [
        (e.payload["data"]["response"]["score"], e.payload["data"]["response"]["comment"])
        for e in updates
    ] == [(3, "Leveringen var for sen"), (6, "Leveringen var for sen")]


def test_a_rolled_back_answer_leaves_no_event(invite):
    token = invite()
    services.save_answers(token, scores={"": "9"})
    db.session.rollback()
    assert _events() == []


def test_the_one_tap_statement_writes_the_same_payload_as_the_service(invite, is_postgres):
    if not is_postgres:
        pytest.skip("the one-statement save is PostgreSQL's; SQLite takes the service path")
    token = invite()
    one_tap.save_score(token, "", "2")
    one_tap.save_score(token, "", "2")  # unchanged: no event
    one_tap.save_score(token, "", "8")
    created, updated = _events()
    assert (created.type, updated.type) == ("response.created", "response.updated")
    assert updated.payload["data"]["response"]["score"] == 8
    # what the service writes for the same response, now
    from feedback.responses.announce import announce_response

    announce_response("response.updated", created.payload["data"]["response"]["id"],
                      now=utcnow())  # fmt: skip
    db.session.commit()
    service = _events()[-1]
    assert json.loads(json.dumps(service.payload["data"])) == updated.payload["data"]
    _shape(updated, "response.updated")


def test_a_tap_answered_by_the_answer_lane_is_announced(client, invite, is_postgres):
    import re

    from flask import request_started

    if not is_postgres:
        pytest.skip("the lane runs on PostgreSQL only")
    token = invite()
    with client.application.app_context():
        page = client.get(f"/s/{token}").get_data(as_text=True)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    reached_flask = []
    request_started.connect(recorder := lambda sender, **extra: reached_flask.append(1))
    try:
        for score in (9, 9, 4):
            saved = client.post(f"/s/{token}/score", json={"score": score},
                                headers={"X-CSRFToken": csrf})  # fmt: skip
            assert saved.get_json() == {"saved": True, "score": score}
    finally:
        request_started.disconnect(recorder)
    assert reached_flask == []  # the lane saved them
    assert [(e.type, e.payload["data"]["response"]["score"]) for e in _events()] == [
        ("response.created", 9), ("response.updated", 4)]  # fmt: skip


def test_a_low_score_routed_into_a_case_is_announced_with_its_assignee(answer, create_user):
    owner = create_user("owner@nordlys.example.com", name="Ole Owner")
    response_id = answer(1, abc_class="A", owner=owner, comment="Altid forsinket")
    report = route_pending(load_rules(), settle=timedelta(0))
    assert report.cases == 1
    (event,) = _events("case.created")
    data = _shape(event, "case.created")
    case = db.session.scalar(select(Case))
    assert event.subject == f"case:{case.id}"
    assert data["case"]["id"] == case.id and data["case"]["rule"] == "a_detractor"
    assert data["case"]["status"] == "new" and data["case"]["due_at"].endswith("Z")
    assert data["response"] == {"id": response_id, "score": 1}
    assert data["assignee"] == {"email": "owner@nordlys.example.com", "name": "Ole Owner"}
    assert data["url"] == f"http://127.0.0.1:5000/cases/{case.id}"
    assert "Altid forsinket" not in json.dumps(data)  # the comment travels in response events
    # routing again decides nothing and announces nothing
    route_pending(load_rules(), settle=timedelta(0))
    assert len(_events("case.created")) == 1


def test_breach_and_resolution_are_announced_once(answer, create_user, tmp_path, app):
    from feedback.cases.escalation import escalate_breached

    owner = create_user("owner@nordlys.example.com")
    answer(0, abc_class="A", owner=owner)
    route_pending(load_rules(), settle=timedelta(0))
    case = db.session.scalar(select(Case))
    backend = OutboxBackend(tmp_path / "mail", ("s@nordlys.example.com", "Feedback Loop"))
    later = case.due_at + timedelta(minutes=1)
    assert escalate_breached(app.config, backend, now=later) == 1
    assert escalate_breached(app.config, backend, now=later) == 0
    (breached,) = _events("case.breached")
    data = _shape(breached, "case.breached")
    assert data["case"]["id"] == case.id and "assignee" not in data

    case = db.session.get(Case, case.id)
    change_status(owner, case, "in_progress")
    assert _events("case.resolved") == []
    change_status(owner, case, "resolved", note="Credit note sent to Søren")
    db.session.commit()
    (resolved,) = _events("case.resolved")
    data = _shape(resolved, "case.resolved")
    assert data["case"]["status"] == "resolved" and data["case"]["closed_at"].endswith("Z")
    assert "Søren" not in json.dumps(data)  # the outcome staff wrote stays inside
    # the order the receiver will see them in: one subject, ascending ids
    assert [e.type for e in _events() if e.subject == f"case:{case.id}"] == [
        "case.created", "case.breached", "case.resolved"]  # fmt: skip


def test_unsubscribing_is_announced_without_the_contacts_address(invite):
    token = invite(name="Søren Østergaard")
    assert services.unsubscribe(token) is True
    assert services.unsubscribe(token) is False  # already out: no second event
    db.session.commit()
    (event,) = _events()
    data = _shape(event, "contact.opted_out")
    contact = db.session.scalar(select(Contact))
    assert event.subject == f"contact:{contact.id}"
    assert data["contact"] == {"id": contact.id, "language": "da"}
    assert data["source"] == "unsubscribe_page"


def test_an_unsubscribe_reported_by_sendgrid_is_announced(invite):
    from feedback.delivery.events import apply_events

    invite()
    invitation_id = db.session.scalar(select(Invitation.id))
    apply_events([{"event": "unsubscribe", "sg_event_id": "ev-1", "timestamp": int(time.time()),
                   "invitation_id": str(invitation_id)}])  # fmt: skip
    db.session.commit()
    (event,) = _events()
    assert _shape(event, "contact.opted_out")["source"] == "email_provider"


def _churn_runs(create_customer, before: dict, today: dict):
    """Customers scored in last week's run and today's: {name: risk or None}."""
    customers = {name: create_customer(name=name) for name in {*before, *today}}
    runs = []
    for as_of, risks in ((date.today() - timedelta(days=7), before), (date.today(), today)):
        days = (date.today() - as_of).days
        run = ChurnRun(as_of=as_of, horizon_days=180, model="default",
                       computed_at=utcnow() - timedelta(days=days))  # fmt: skip
        db.session.add(run)
        db.session.flush()
        for name, risk in risks.items():
            score = ChurnScore(
                run_id=run.id, customer_id=customers[name].id, risk=risk,
                reasons=["no order for 94 days"], reason_keys=",recency,",
                revenue_12m=Decimal(1000), revenue_at_risk=Decimal(risk),
            )  # fmt: skip
            db.session.add(score)
        runs.append(run)
    db.session.commit()
    return customers, runs[1]


def test_a_customer_entering_the_high_band_is_announced_once(create_customer, app, monkeypatch):
    from feedback.risk import services as risk_services

    customers, run = _churn_runs(
        create_customer,
        before={"Stays High A/S": 75, "Rises ApS": 40},
        today={"Stays High A/S": 80, "Rises ApS": 66, "New AB": 90, "Low Oy": 20},
    )
    monkeypatch.setattr(risk_services.churn, "recompute_from_config", lambda *a, **k: run)
    db.session.add(SegmentRun(as_of=date.today(), thresholds="50,30,15", base_currency="EUR"))
    db.session.commit()
    risk_services.recompute_and_route(app.config)
    db.session.commit()
    events = _events("churn.high_risk")
    assert sorted(e.payload["data"]["customer"]["name"] for e in events) == ["New AB", "Rises ApS"]
    rises = next(e for e in events if e.payload["data"]["customer"]["name"] == "Rises ApS")
    data = _shape(rises, "churn.high_risk")
    assert (data["risk"], data["previous_risk"], data["as_of"]) == (
        66,
        40,
        date.today().isoformat(),
    )
    assert rises.subject == f"customer:{customers['Rises ApS'].id}"
    # today's run recomputed: the crossings were announced already
    risk_services.recompute_and_route(app.config)
    db.session.commit()
    assert len(_events("churn.high_risk")) == 2
    # the demo's run announces nothing
    db.session.execute(OutboxEvent.__table__.delete())
    db.session.commit()
    risk_services.recompute_and_route(app.config, announce=False)
    assert _events() == []


def test_an_imported_history_emits_nothing(create_customer, runner, tmp_path):
    from feedback.risk.history_cli import history_cli

    customer = create_customer(external_id="K1", language="da")
    db.session.add(Contact(customer_id=customer.id, email="anna@byg.dk", language="da"))
    db.session.commit()
    path = tmp_path / "historik.csv"
    path.write_text("email;sent_at;answered_at;score;comment;wave;language\r\n"
                    "anna@byg.dk;2024-03-04 09:00;05.03.2024 10:15;2;For dyrt;;\r\n")  # fmt: skip
    result = runner.invoke(history_cli, ["import", str(path), "--survey", "Gammel NPS"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_only_known_event_types_can_be_emitted():
    from feedback.outbox import emit

    with pytest.raises(ValueError):
        emit("case.deleted", "case:1", {})
    assert len(EVENT_TYPES) == 7
