"""/api/v1/churn-scores and /api/v1/reports/nps: stored churn runs by risk, and the
dashboard's NPS per period, the same rows as `feedback report nps --json`."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from feedback.customers.models import CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.risk.models import ChurnRun, ChurnScore
from tests.support.api import assert_guarded, bearer, problem_of
from tests.support.dashboard_world import make_world


@pytest.fixture
def runs(create_customer):
    """Two churn runs; the latest scores five customers in classes A and C."""
    segments = SegmentRun(as_of=date(2026, 11, 30), thresholds="50,30,15", base_currency="EUR")
    older = ChurnRun(as_of=date(2026, 11, 1), horizon_days=180, model="default")
    latest = ChurnRun(as_of=date(2026, 11, 29), horizon_days=180, model="fitted")
    db.session.add_all([segments, older, latest])
    db.session.flush()
    specs = [("R1", 85, "A"), ("R2", 85, "C"), ("R3", 61, "A"), ("R4", 30, "C"), ("R5", 5, "A")]
    for external_id, risk, klass in specs:
        customer = create_customer(external_id=external_id, name=f"Kunde {external_id}")
        db.session.add(CustomerSegment(run_id=segments.id, customer_id=customer.id,
                                       revenue_12m=Decimal(200_000), abc_class=klass,
                                       programme="retain", rank=1))  # fmt: skip
        db.session.add(ChurnScore(run_id=latest.id, customer_id=customer.id, risk=risk,
                                  reasons=["No order for 95 days"] if risk > 50 else [],
                                  reason_keys=",recency," if risk > 50 else "",
                                  revenue_12m=Decimal(200_000),
                                  revenue_at_risk=Decimal(2000 * risk)))  # fmt: skip
        db.session.add(ChurnScore(run_id=older.id, customer_id=customer.id, risk=10,
                                  reasons=[], reason_keys="", revenue_12m=Decimal(1),
                                  revenue_at_risk=Decimal("0.1")))  # fmt: skip
    db.session.commit()
    return {"older": older, "latest": latest}


def _scores(client, headers, query="") -> list[tuple[str, int]]:
    response = client.get(f"/api/v1/churn-scores{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(row["customer_external_id"], row["risk"]) for row in response.get_json()["data"]]


@pytest.mark.parametrize("path", ["/api/v1/churn-scores", "/api/v1/reports/nps"])
def test_reading_needs_a_live_token(client, path):
    assert_guarded(client, "get", path, write=False)


def test_the_latest_run_by_risk_with_band_reasons_and_revenue(client, runs):
    body = client.get("/api/v1/churn-scores", headers=bearer("read")).get_json()
    assert body["run"]["id"] == runs["latest"].id and body["run"]["as_of"] == "2026-11-29"
    assert body["run"]["model"] == "fitted" and body["next_cursor"] is None
    assert [(r["customer_external_id"], r["risk"], r["band"]) for r in body["data"]] == [
        ("R1", 85, "high"), ("R2", 85, "high"), ("R3", 61, "high"), ("R4", 30, "medium"),
        ("R5", 5, "low"),
    ]  # fmt: skip
    first = body["data"][0]
    assert first["reasons"] == ["No order for 95 days"] and first["reason_keys"] == ["recency"]
    assert first["revenue_12m"] == "200000.00" and first["revenue_at_risk"] == "170000.00"
    assert first["class"] == "A" and first["programme"] == "retain"
    assert first["customer_name"] == "Kunde R1"


def test_filters_and_other_runs(client, runs):
    headers = bearer("read")
    assert _scores(client, headers, "?class=C") == [("R2", 85), ("R4", 30)]
    assert _scores(client, headers, "?min_risk=61&class=A,C") == [("R1", 85), ("R2", 85),
                                                                   ("R3", 61)]  # fmt: skip
    assert {risk for _, risk in _scores(client, headers, f"?run={runs['older'].id}")} == {10}
    assert {risk for _, risk in _scores(client, headers, "?as_of=2026-11-15")} == {10}
    assert len(_scores(client, headers, "?as_of=2026-12-31")) == 5


def test_paging_stays_in_the_run_it_started_in(client, runs, create_customer):
    headers = bearer("read")
    first = client.get("/api/v1/churn-scores?limit=2", headers=headers).get_json()
    assert [row["customer_external_id"] for row in first["data"]] == ["R1", "R2"]
    newer = ChurnRun(as_of=date(2026, 11, 30), horizon_days=180, model="fitted")
    db.session.add(newer)
    db.session.commit()
    seen = [row["customer_external_id"] for row in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/churn-scores?limit=2&cursor={cursor}", headers=headers)
        body = page.get_json()
        assert body["run"]["id"] == runs["latest"].id
        seen += [row["customer_external_id"] for row in body["data"]]
        cursor = body["next_cursor"]
    assert seen == ["R1", "R2", "R3", "R4", "R5"]


def test_no_run_yet_is_an_empty_page(client):
    body = client.get("/api/v1/churn-scores", headers=bearer("read")).get_json()
    assert body == {"run": None, "data": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("query", "status"),
    [("?run=999", 404), ("?as_of=2020-01-01", 404), ("?class=E", 422), ("?min_risk=101", 422),
     ("?run=1&as_of=2026-11-01", 422), ("?as_of=yesterday", 422), ("?cursor=zzz", 400)],
)  # fmt: skip
def test_bad_churn_queries_are_problems(client, runs, query, status):
    problem_of(client.get(f"/api/v1/churn-scores{query}", headers=bearer("read")), status)


# --- the NPS report ------------------------------------------------------------------------


@pytest.fixture
def world(create_customer, create_user):
    return make_world(create_customer, create_user)


@pytest.mark.parametrize(
    "args",
    [["--from", "2025-01-01", "--to", "2025-03-31"],
     ["--period", "quarter", "--from", "2025-01-01", "--to", "2025-03-31", "--class", "C",
      "--programme", "retain"],
     ["--from", "2025-01-15", "--to", "2025-06-30", "--class", "A,C"]],
)  # fmt: skip
def test_the_nps_report_gives_the_commands_rows(client, runner, app, world, args, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_TIMEZONE", "Europe/Copenhagen")
    command = runner.invoke(args=["report", "nps", *args, "--json"])
    assert command.exit_code == 0, command.output
    options = dict(zip(args[::2], args[1::2], strict=True))
    query = "&".join(f"{name.lstrip('-')}={value}" for name, value in options.items())
    response = client.get(f"/api/v1/reports/nps?{query}", headers=bearer("read"))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["data"] == json.loads(command.output)
    assert body["from"] == options["--from"] and body["to"] == options["--to"]


def test_the_nps_report_by_month_with_known_values(client, app, world, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_TIMEZONE", "Europe/Copenhagen")
    body = client.get("/api/v1/reports/nps?from=2025-01-01&to=2025-03-31",
                      headers=bearer("read")).get_json()  # fmt: skip
    assert body["period"] == "month" and body["class"] == [] and body["programme"] is None
    assert [(r["period"], r["n"], r["nps"]) for r in body["data"]] == [
        ("2025-01", 4, 25.0), ("2025-02", 41, 46.3), ("2025-03", 40, -50.0)
    ]  # fmt: skip
    assert body["data"][0]["change_significant"] is None
    assert body["data"][2]["change_significant"] is True


def test_the_nps_report_defaults_to_the_last_twelve_months(client):
    body = client.get("/api/v1/reports/nps", headers=bearer("read")).get_json()
    assert len(body["data"]) == 12 and body["from"].endswith("-01")
    assert all(row["n"] == 0 and row["nps"] is None for row in body["data"])


@pytest.mark.parametrize(
    ("query", "field"),
    [("?period=week", "period"), ("?class=A,X", "class"), ("?programme=keep", "programme"),
     ("?from=2025-02-30", "from"), ("?from=2025-06-01&to=2025-01-01", "from"),
     ("?from=1999-12-31", "from"), ("?from=2001-01-01&to=2025-01-01", "to"),
     ("?from=2999-01-01", "from")],
)  # fmt: skip
def test_bad_report_queries_name_the_field(client, query, field):
    body = problem_of(client.get(f"/api/v1/reports/nps{query}", headers=bearer("read")), 422)
    assert body["errors"][0]["field"] == field
