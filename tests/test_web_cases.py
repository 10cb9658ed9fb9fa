"""The queue and case pages: who sees what, actions through real forms with CSRF, escaping,
filters that never fail, and the closed-loop figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.cases.models import Case, CaseEvent
from feedback.cases.queries import QueueFilters, loop_figures, queue_page
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.routing.engine import route_responses
from feedback.routing.rules import load_rules

RULES = load_rules()
XSS = '<script>alert("owned")</script><img src=x onerror=alert(1)>'
_TOKEN = re.compile(r'name="(?:[a-z]+-)?csrf_token"[^>]*value="([^"]+)"')


def token(client, path: str) -> str:
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def routed(answer, *args, **kwargs) -> Case:
    response_id = answer(*args, **kwargs)
    route_responses(RULES, [response_id], now=utcnow())
    db.session.commit()
    return db.session.scalar(select(Case).where(Case.response_id == response_id))


@pytest.fixture
def staff(create_user):
    return {
        "owner": create_user("owner@nordlys.example.com", name="Ola Owner", team="Key accounts"),
        "mate": create_user("mate@nordlys.example.com", name="Mia Mate", team="Key accounts"),
        "support": create_user("support@nordlys.example.com", team="Customer support"),
        "manager": create_user("boss@nordlys.example.com", role="manager", team="Management"),
    }


def test_the_queue_shows_each_person_their_tabs(client, login, staff, answer):
    mine = routed(answer, 2, "A", owner=staff["owner"], comment="Late again.",
                  customer_name="Fjord Fisk AS")  # fmt: skip
    other = routed(answer, 1, "C", "retain", customer_name="Støtte Kunde ApS")  # support queue
    login(staff["owner"].email)
    page = client.get("/cases").get_data(as_text=True)
    assert "Fjord Fisk AS" in page and "Støtte Kunde ApS" not in page
    assert "My cases" in page and ">All<" not in page  # agents have no "All" tab
    assert client.get("/cases?view=all").status_code == 200  # falls back to their own
    assert "Støtte Kunde ApS" not in client.get("/cases?view=all").get_data(as_text=True)
    team = client.get("/cases?view=team").get_data(as_text=True)
    assert "Fjord Fisk AS" in team

    client.post("/logout", data={"csrf_token": token(client, "/cases")})
    login(staff["manager"].email)
    everything = client.get("/cases?view=all").get_data(as_text=True)
    assert "Fjord Fisk AS" in everything and "Støtte Kunde ApS" in everything
    assert f"/cases/{mine.id}" in everything and f"/cases/{other.id}" in everything


def test_an_agent_of_another_team_cannot_open_or_change_a_case(client, login, staff, answer):
    case = routed(answer, 2, "A", owner=staff["owner"])
    login(staff["support"].email)
    assert client.get(f"/cases/{case.id}").status_code == 404
    csrf = token(client, "/cases")
    for action, data in (
        ("status", {"status-status": "resolved", "status-note": "done"}),
        ("comment", {"comment-text": "hi"}),
        ("assign", {"assign-target": "me"}),
    ):
        prefix = action if action != "status" else "status"
        response = client.post(
            f"/cases/{case.id}/{action}", data={**data, f"{prefix}-csrf_token": csrf}
        )
        assert response.status_code == 404, action
    db.session.refresh(case)
    assert case.status == "new" and case.assignee_id == staff["owner"].id


def test_a_teammate_may_read_but_not_change(client, login, staff, answer):
    case = routed(answer, 2, "A", owner=staff["owner"])
    login(staff["mate"].email)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert "they, or a manager, can change it" in page.get_data(as_text=True)
    response = client.post(
        f"/cases/{case.id}/comment",
        data={"comment-text": "I'll call", "comment-csrf_token": token(client, "/cases")},
    )
    assert response.status_code == 403
    assert "only the assignee" in response.get_data(as_text=True)


def test_the_owner_works_the_case_through_the_page(client, login, staff, answer):
    case = routed(answer, 3, "A", owner=staff["owner"], comment="Fakturaen var forkert.",
                  language="da")  # fmt: skip
    login(staff["owner"].email)
    path = f"/cases/{case.id}"
    csrf = token(client, path)
    moved = client.post(f"{path}/status", data={"status-status": "in_progress",
                                                "status-note": "Calling now",
                                                "status-csrf_token": csrf})  # fmt: skip
    assert moved.status_code == 303
    refused = client.post(f"{path}/status", data={"status-status": "resolved",
                                                  "status-note": "  ",
                                                  "status-csrf_token": csrf},
                          follow_redirects=True)  # fmt: skip
    assert "an outcome is required" in refused.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "in_progress"
    done = client.post(f"{path}/status", data={"status-status": "resolved",
                                               "status-note": "Credit note sent.",
                                               "status-root_cause": "invoicing",
                                               "status-csrf_token": csrf},
                       follow_redirects=True)  # fmt: skip
    assert "is now resolved" in done.get_data(as_text=True)
    db.session.refresh(case)
    assert (case.status, case.outcome, case.root_cause) == (
        "resolved", "Credit note sent.", "invoicing")  # fmt: skip
    kinds = [e.kind for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]  # fmt: skip
    assert kinds == ["created", "status", "comment", "resolved"]
    page = client.get(path).get_data(as_text=True)
    assert "Credit note sent." in page and "Calling now" in page
    assert case.followup_token is None  # not asked for


def test_resolving_can_ask_the_customer_whether_it_is_solved(client, login, staff, answer):
    case = routed(answer, 2, "A", owner=staff["owner"])
    login(staff["owner"].email)
    client.post(f"/cases/{case.id}/status", data={
        "status-status": "resolved", "status-note": "Fixed the invoice.",
        "status-ask_followup": "y", "status-csrf_token": token(client, f"/cases/{case.id}"),
    })  # fmt: skip
    db.session.refresh(case)
    assert case.status == "resolved" and len(case.followup_token) >= 32


def test_reassign_take_and_bad_targets(client, login, staff, answer):
    case = routed(answer, 1, "C", "retain")  # support queue, nobody yet
    login(staff["manager"].email)
    path = f"/cases/{case.id}"
    csrf = token(client, path)
    client.post(f"{path}/assign", data={"assign-target": "me", "assign-csrf_token": csrf})
    db.session.refresh(case)
    assert case.assignee_id == staff["manager"].id
    client.post(f"{path}/assign", data={"assign-target": f"user:{staff['support'].id}",
                                        "assign-csrf_token": csrf})  # fmt: skip
    db.session.refresh(case)
    assert case.assignee_id == staff["support"].id
    for bad in ("user:999999", "team:abc", "nobody", ""):
        response = client.post(f"{path}/assign", data={"assign-target": bad,
                                                       "assign-csrf_token": csrf},
                               follow_redirects=True)  # fmt: skip
        assert response.status_code == 200, bad
        assert "flash-error" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.assignee_id == staff["support"].id


def test_forms_without_csrf_are_refused(client, login, staff, answer):
    case = routed(answer, 2, "A", owner=staff["owner"])
    login(staff["owner"].email)
    response = client.post(f"/cases/{case.id}/status", data={"status-status": "in_progress"})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "new"


def test_customer_text_is_escaped_on_both_pages(client, login, staff, answer):
    case = routed(answer, 0, "A", owner=staff["owner"], comment=XSS, customer_name=XSS)
    login(staff["owner"].email)
    for path in ("/cases", f"/cases/{case.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path
    csrf = token(client, f"/cases/{case.id}")
    client.post(f"/cases/{case.id}/comment", data={"comment-text": XSS,
                                                  "comment-csrf_token": csrf})  # fmt: skip
    assert "<img src=x" not in client.get(f"/cases/{case.id}").get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "view=everything", "status=lost", "priority=%00", "class=Z", "class=a&class=A",
    "theme=<b>", "page=-1", "page=99999999999", "page=abc", "breached=maybe",
    "status=" + "x" * 5000,
])  # fmt: skip
def test_bad_queue_parameters_never_fail_the_page(client, login, staff, answer, query):
    routed(answer, 2, "A", owner=staff["owner"])
    login(staff["owner"].email)
    response = client.get(f"/cases?{query}")
    assert response.status_code == 200, query


def test_case_page_bad_ids(client, login, staff):
    login(staff["manager"].email)
    assert client.get("/cases/999999").status_code == 404
    assert client.get("/cases/abc").status_code == 404
    assert client.get("/cases/99999999999999999999").status_code == 404


def test_strangers_are_sent_to_login(client, staff, answer):
    case = routed(answer, 2, "A", owner=staff["owner"])
    for path in ("/cases", f"/cases/{case.id}"):
        response = client.get(path)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_filters_narrow_the_queue(staff, answer):
    late = routed(answer, 2, "A", owner=staff["owner"], comment="The delivery was late.")
    late.due_at = utcnow() - timedelta(hours=2)
    b_case = routed(answer, 3, "B", owner=staff["owner"], comment="Prices went up again.")
    db.session.commit()
    owner, now = staff["owner"], utcnow()

    def ids(**filters):
        page = queue_page(owner, QueueFilters(**filters), now=now, page=1, per_page=50)
        return [row.id for row in page.items]

    assert ids() == [late.id, b_case.id]  # soonest deadline first
    assert ids(breached=True) == [late.id]
    assert ids(classes=["B"]) == [b_case.id]
    assert ids(priority="urgent") == [late.id]
    assert ids(theme="price") == [b_case.id]
    assert ids(status="closed") == []


def test_closed_loop_figures(staff, answer):
    owner = staff["owner"]
    now = utcnow()
    cases = [routed(answer, 2, "A", owner=owner) for _ in range(3)]
    for hours, case in zip((2, 4, 30), cases, strict=True):
        case.created_at = now - timedelta(hours=40)
        case.due_at = case.created_at + timedelta(hours=24)
        case.first_action_at = case.created_at + timedelta(hours=hours / 2)
        case.status, case.closed_at = "resolved", case.created_at + timedelta(hours=hours)
    open_case = routed(answer, 1, "A", owner=owner)
    open_case.due_at = now - timedelta(minutes=5)
    db.session.commit()
    figures = loop_figures(owner, "mine", now=now)
    assert (figures.open, figures.breached) == (1, 1)
    assert (figures.closed, figures.closed_within_sla) == (3, 2)
    assert figures.median_resolution == timedelta(hours=4)
    assert figures.median_first_action == timedelta(hours=2)
    assert figures.within_sla_share == pytest.approx(2 / 3)


def test_the_queue_can_use_its_partial_indexes(is_postgres, staff, answer):
    """SQLite uses a partial index only when the query repeats the index's WHERE term, so
    the status values are written into the SQL; INDEXED BY fails if the index is unusable.
    The planner also needs statistics, which the refresh_statistics job keeps."""
    from sqlalchemy import text

    from feedback.cases.models import CLOSED_STATUSES, OPEN_STATUSES, status_in
    from feedback.maintenance import refresh_statistics

    routed(answer, 2, "A", owner=staff["owner"])
    assert refresh_statistics() == "planner statistics refreshed"
    if is_postgres:
        pytest.skip("PostgreSQL plans with the bound values; SQLite is the one to check")
    for index, statuses in (("ix_cases_closed", CLOSED_STATUSES),
                            ("ix_cases_open_due", OPEN_STATUSES)):  # fmt: skip
        query = select(Case.id).where(status_in(statuses), Case.due_at >= utcnow())
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        sql = sql.replace("FROM cases", f"FROM cases INDEXED BY {index}")
        db.session.execute(text(sql)).all()  # "no query solution" if the index is unusable


def test_figures_are_kept_a_minute_per_tab(staff, answer):
    from feedback.cases.queries import _figures_cache, cached_loop_figures

    owner, now = staff["owner"], utcnow()
    _figures_cache.clear()
    routed(answer, 2, "A", owner=owner)
    first = cached_loop_figures(owner, "mine", now=now, seconds=60)
    routed(answer, 1, "A", owner=owner)
    assert cached_loop_figures(owner, "mine", now=now, seconds=60) is first  # kept
    assert cached_loop_figures(owner, "mine", now=now, seconds=0).open == first.open + 1
    assert cached_loop_figures(owner, "team", now=now, seconds=60).open == 2  # its own entry
    _figures_cache.clear()


def test_statistics_refresh_leaves_other_schemas_alone(is_postgres):
    """A bare ANALYZE on PostgreSQL takes every schema of the database: it waited on (and
    deadlocked with) another session's schema changes there. Another schema's table is held
    locked here while the job runs with a short lock timeout."""
    import uuid

    from sqlalchemy import text

    from feedback.maintenance import refresh_statistics

    if not is_postgres:
        pytest.skip("SQLite's ANALYZE covers only its own file")
    schema = f"other_app_{uuid.uuid4().hex[:8]}"
    with db.engine.connect() as other:
        other.execute(text(f"CREATE SCHEMA {schema}"))
        other.execute(text(f"CREATE TABLE {schema}.things (id int)"))
        other.commit()
        try:
            other.execute(text(f"LOCK TABLE {schema}.things IN ACCESS EXCLUSIVE MODE"))
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert refresh_statistics() == "planner statistics refreshed"
        finally:
            other.rollback()
            other.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            other.commit()
