"""Working a case: rights checked on the server, status moves, outcome required, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback.auth.services import get_or_create_team
from feedback.cases.models import Case
from feedback.cases.services import (
    NotAllowed,
    add_comment,
    change_status,
    get_case_for,
    reassign,
)
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db


@pytest.fixture
def people(create_user):
    return {
        "owner": create_user("owner@nordlys.example.com", team="Key accounts"),
        "teammate": create_user("mate@nordlys.example.com", team="Key accounts"),
        "support": create_user("support@nordlys.example.com", team="Customer support"),
        "manager": create_user("boss@nordlys.example.com", role="manager", team="Management"),
    }


@pytest.fixture
def case(people, create_customer):
    customer = create_customer(owner=people["owner"])
    case = Case(customer_id=customer.id, rule_key="a_detractor", title="Call the customer",
                assignee_id=people["owner"].id, team_id=people["owner"].team_id,
                priority="urgent", due_at=utcnow() + timedelta(hours=24))  # fmt: skip
    db.session.add(case)
    db.session.commit()
    return case


def test_the_owner_works_the_case_to_resolution_and_the_history_shows_it(people, case):
    owner = people["owner"]
    change_status(owner, case, "in_progress")
    add_comment(owner, case, "Called Søren; the invoice error is being credited.")
    with pytest.raises(DomainError, match="an outcome is required"):
        change_status(owner, case, "resolved", note="   ")
    change_status(owner, case, "resolved", note="Credit note sent; customer satisfied.")
    db.session.commit()
    assert case.status == "resolved" and case.closed_at is not None
    assert case.outcome == "Credit note sent; customer satisfied."
    assert case.first_action_at is not None
    assert [(e.kind, e.actor_id) for e in case.events] == [
        ("status", owner.id),
        ("comment", owner.id),
        ("resolved", owner.id),
    ]
    change_status(owner, case, "in_progress")  # reopened
    assert case.closed_at is None


def test_impossible_moves_are_refused(people, case):
    owner = people["owner"]
    change_status(owner, case, "no_action", note="Duplicate of an earlier complaint.")
    with pytest.raises(DomainError, match="a no action case cannot become waiting on customer"):
        change_status(owner, case, "waiting_on_customer")
    with pytest.raises(DomainError, match="unknown status"):
        change_status(owner, case, "lost")


def test_rights_are_checked_on_the_server(people, case):
    with pytest.raises(NotFound):
        get_case_for(people["support"], case.id)  # another team: not even visible
    with pytest.raises(NotAllowed):
        change_status(people["support"], case, "in_progress")
    assert get_case_for(people["teammate"], case.id) is case  # the team can see it ...
    with pytest.raises(NotAllowed):
        add_comment(people["teammate"], case, "I'll take it")  # ... but not change it
    change_status(people["manager"], case, "in_progress")  # managers may act on every case
    with pytest.raises(NotFound):
        get_case_for(people["owner"], 999_999)


def test_reassigning_to_a_person_or_a_team_queue(people, case):
    manager = people["manager"]
    reassign(manager, case, assignee=people["support"])
    assert (case.assignee_id, case.team_id) == (people["support"].id, people["support"].team_id)
    queue = get_or_create_team("Customer support")
    reassign(people["support"], case, team_id=queue.id)
    assert (case.assignee_id, case.team_id) == (None, queue.id)
    people["teammate"].active = False
    with pytest.raises(DomainError, match="not an active user"):
        reassign(manager, case, assignee=people["teammate"])
    with pytest.raises(DomainError, match="choose a person or a team"):
        reassign(manager, case)
    assert [e.kind for e in case.events] == ["assigned", "assigned"]


# escalation --------------------------------------------------------------------------------


def _breached(case, hours=2):
    case.due_at = utcnow() - timedelta(hours=hours)
    db.session.commit()


def test_a_breached_case_is_escalated_once_to_its_team_managers(
    people, case, create_user, tmp_path
):
    import email
    import email.policy

    from feedback.cases.escalation import escalate_breached
    from feedback.delivery.backends.outbox import OutboxBackend

    lead = create_user("lead@nordlys.example.com", role="manager", team="Key accounts",
                       name="Key Lead")  # fmt: skip
    backend = OutboxBackend(tmp_path / "outbox", ("s@nordlys.example.com", "Feedback Loop"))
    config = {"FEEDBACK_BASE_URL": "https://loop.example.com"}
    assert escalate_breached(config, backend) == 0  # not due yet
    _breached(case)
    assert escalate_breached(config, backend) == 1
    assert escalate_breached(config, backend) == 0  # once
    db.session.expire_all()
    assert case.escalated_at is not None
    assert [e.detail for e in case.events if e.kind == "escalated"] == [
        "Past its deadline; escalated to Key Lead"
    ]
    (mail,) = (tmp_path / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == lead.email
    assert parsed["X-Feedback-Case"] == str(case.id)
    assert "https://loop.example.com/cases/" in parsed.get_body(("plain",)).get_content()


def test_resolved_cases_are_not_escalated_and_teams_without_a_manager_reach_all(
    people, case, create_customer, tmp_path
):
    from feedback.cases.escalation import escalate_breached
    from feedback.delivery.backends.outbox import OutboxBackend

    backend = OutboxBackend(tmp_path / "outbox", ("s@nordlys.example.com", "Feedback Loop"))
    config = {"FEEDBACK_BASE_URL": "https://loop.example.com"}
    change_status(people["owner"], case, "resolved", note="Done.")
    _breached(case)
    assert escalate_breached(config, backend) == 0
    other = Case(customer_id=create_customer().id, rule_key="b_detractor", title="Call",
                 team_id=people["support"].team_id, priority="high",
                 due_at=utcnow() - timedelta(hours=1))  # fmt: skip
    db.session.add(other)
    db.session.commit()
    assert escalate_breached(config, backend) == 1
    # Customer support has no manager: every manager hears of it.
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


# announcing new cases -------------------------------------------------------------------------


def test_new_cases_are_announced_once_to_the_assignee_or_the_team(
    people, case, create_customer, tmp_path
):
    import email
    import email.policy

    from feedback.cases.notify import notify_new_cases
    from feedback.delivery.backends.outbox import OutboxBackend

    queue_case = Case(customer_id=create_customer(name="<b>Ærø</b> A/S").id, rule_key="x",
                      title="Handle the feedback", team_id=people["support"].team_id,
                      priority="normal", due_at=utcnow() + timedelta(days=5))  # fmt: skip
    db.session.add(queue_case)
    db.session.commit()
    outbox = tmp_path / "outbox"
    backend = OutboxBackend(outbox, ("s@nordlys.example.com", "Feedback Loop"))
    config = {"FEEDBACK_BASE_URL": "https://loop.example.com"}
    assert notify_new_cases(config, backend) == 2
    assert notify_new_cases(config, backend) == 0
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in outbox.glob("*.eml")]  # fmt: skip
    to = sorted(m["To"].addresses[0].addr_spec for m in mails)
    assert to == ["owner@nordlys.example.com", "support@nordlys.example.com"]
    queue_mail = next(m for m in mails if "support@" in str(m["To"]))
    html = queue_mail.get_body(("html",)).get_content()
    assert "&lt;b&gt;Ærø&lt;/b&gt; A/S" in html and "<b>Ærø</b>" not in html


def test_staff_mail_survives_a_backend_outage(people, case, create_user, tmp_path):
    """A mail that could not leave is sent by the next run, and the history says it once."""
    from feedback.cases.escalation import escalate_breached
    from feedback.cases.notify import notify_new_cases
    from feedback.delivery.backends.outbox import OutboxBackend

    create_user("lead@nordlys.example.com", role="manager", team="Key accounts")
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the outbox should be")  # the backend cannot write
    down = OutboxBackend(blocked / "outbox", ("s@nordlys.example.com", "Feedback Loop"))
    up = OutboxBackend(tmp_path / "outbox", ("s@nordlys.example.com", "Feedback Loop"))
    config = {"FEEDBACK_BASE_URL": "https://loop.example.com"}
    _breached(case)
    notify_new_cases(config, down)
    escalate_breached(config, down)
    db.session.expire_all()
    assert case.notified_at is None and case.escalated_at is None  # given back, not lost
    assert [e.kind for e in case.events] == []
    assert notify_new_cases(config, up) == 1
    assert escalate_breached(config, up) == 1
    assert notify_new_cases(config, up) == 0 and escalate_breached(config, up) == 0
    db.session.expire_all()
    assert [e.kind for e in case.events] == ["notified", "escalated"]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
