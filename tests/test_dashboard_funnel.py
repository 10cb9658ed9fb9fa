"""View 4, the response funnel: counts per step, wave, language and class, and the
non-response rate per period, on a small hand-made set of waves with known answers."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboards import stats
from dashboards.context import make_context
from dashboards.filters import Filters
from dashboards.queries.funnel import funnel, nonresponse_by_period
from dashboards.views.funnel import VIEW
from feedback.customers.models import Contact, CustomerSegment, SegmentRun
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.risk.models import WaveOutcome
from feedback.surveys.models import Invitation, InvitationEvent, Survey, Wave
from tests.support.dash_tree import ids, texts
from tests.support.dashboard_world import rebuild_answer_facts

TZ = ZoneInfo("Europe/Copenhagen")
YEAR = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31), grain="quarter")


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def wilson(hits: int, n: int) -> tuple[float, float]:
    """The Wilson interval written out, to check stats.proportion against."""
    z, p = 1.959964, hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


@pytest.fixture
def world(create_user, create_customer):
    """Four customers, three waves in 2025 and one in 2024 (see the counts per test).

    c1 class A grow, owner alice (team Key), Danish; c2 class B retain, owner bob (team
    Care), Swedish; c3 class A grow, no owner, English; c4 never classified, owner alice."""
    alice = create_user(name="Alice", team="Key")
    bob = create_user(name="Bob", team="Care")
    c1 = create_customer(owner=alice, language="da")
    c2 = create_customer(owner=bob, language="sv")
    c3 = create_customer(owner=None, language="en")
    c4 = create_customer(owner=alice, language="da")
    run = SegmentRun(as_of=date(2025, 12, 31), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    for customer, abc, programme in ((c1, "A", "grow"), (c2, "B", "retain"), (c3, "A", "grow")):
        db.session.add(CustomerSegment(
            run_id=run.id, customer_id=customer.id, abc_class=abc, programme=programme,
            revenue_12m=Decimal(1000), rank=1,
        ))  # fmt: skip
    contacts = {}
    for key, customer, language in (("k1a", c1, "da"), ("k1b", c1, "da"), ("k2a", c2, "sv"),
                                    ("k2b", c2, "sv"), ("k3a", c3, "en"), ("k3b", c3, "en"),
                                    ("k4", c4, "da")):  # fmt: skip
        contacts[key] = Contact(customer_id=customer.id, email=f"{key}@x.test", name=key,
                                language=language)  # fmt: skip
        db.session.add(contacts[key])
    nps = Survey(name="Quarterly NPS", template_key="nps")
    csi = Survey(name="Relationship", template_key="relationship")
    db.session.add_all([nps, csi])
    db.session.flush()

    def wave(survey, sent, closed):
        w = Wave(survey_id=survey.id, status="closed", sent_at=sent, closes_at=closed,
                 closed_at=closed, audience={})  # fmt: skip
        db.session.add(w)
        db.session.flush()
        return w

    w1 = wave(nps, at(2025, 3, 10, 9), at(2025, 3, 24, 9))
    w2 = wave(nps, at(2025, 6, 10, 9), at(2025, 6, 24, 9))
    w3 = wave(csi, at(2025, 3, 12, 9), at(2025, 4, 1, 23))  # 2 April, local time
    w0 = wave(nps, at(2024, 12, 1, 9), at(2024, 12, 15, 9))  # before the period
    count = iter(range(1, 1000))

    def invite(w, contact, state, *, events=(), answer=False):
        customer_id = contact.customer_id
        sent = None if state in ("pending", "sending") else w.sent_at
        inv = Invitation(wave_id=w.id, contact_id=contact.id, customer_id=customer_id,
                         token=f"t{next(count)}", language=contact.language, state=state,
                         sent_at=sent)  # fmt: skip
        db.session.add(inv)
        db.session.flush()
        for kind in events:
            db.session.add(InvitationEvent(invitation_id=inv.id, kind=kind, at=w.sent_at))
        if answer:
            db.session.add(Response(invitation_id=inv.id, wave_id=w.id, customer_id=customer_id,
                                    template_version_id=1, score=8, language=contact.language,
                                    answered_at=w.sent_at, updated_at=w.sent_at))  # fmt: skip

    k = contacts
    invite(w1, k["k1a"], "answered", answer=True)  # all four steps
    invite(w1, k["k2a"], "delivered", events=["open"])  # opened, not answered
    invite(w1, k["k3a"], "sent")  # delivered (no receipt), not opened
    invite(w1, k["k4"], "bounced")  # invited only
    invite(w1, k["k1b"], "pending")  # not invited yet
    invite(w1, k["k2b"], "failed")  # refused by the mail service: invited only
    invite(w1, k["k3b"], "sent", events=["delivered", "click", "click"])  # opened (a click)
    invite(w2, k["k1a"], "sent", answer=True)  # an answer proves delivery and opening
    invite(w2, k["k2a"], "delivered")
    invite(w3, k["k3a"], "answered", answer=True)
    invite(w3, k["k4"], "sent")
    invite(w0, k["k1a"], "answered", answer=True)

    def outcome(w, customer, kind):
        db.session.add(WaveOutcome(wave_id=w.id, customer_id=customer.id, outcome=kind,
                                   invited=1, closed_at=w.closed_at))  # fmt: skip

    outcome(w1, c1, "answered")
    outcome(w1, c2, "non_response")
    outcome(w1, c3, "non_response")
    outcome(w1, c4, "undelivered")  # left out
    outcome(w2, c1, "answered")
    outcome(w2, c2, "non_response")
    outcome(w2, c3, "opted_out")  # left out
    outcome(w3, c3, "answered")
    outcome(w3, c4, "non_response")
    outcome(w0, c1, "non_response")  # before the period
    db.session.commit()
    rebuild_answer_facts()  # the view reads invitation_facts and outcome_facts
    return {"alice": alice, "bob": bob, "nps": nps, "csi": csi, "w1": w1, "w2": w2, "w3": w3}


def steps(f) -> tuple[int, int, int, int]:
    return (f.invited, f.delivered, f.opened, f.answered)


def test_funnel_counts_each_step_as_the_states_define_it(world):
    report = funnel(db.session.connection(), YEAR, tz=TZ)
    assert steps(report.total) == (10, 8, 5, 3)
    assert [(w.wave_id, steps(w.funnel)) for w in report.waves] == [
        (world["w1"].id, (6, 4, 3, 1)),
        (world["w3"].id, (2, 2, 1, 1)),  # sent 12 March, after w1 on 10 March
        (world["w2"].id, (2, 2, 1, 1)),
    ]
    assert report.waves[0].label == "Quarterly NPS: wave of 10 Mar 2025"


def test_funnel_by_language_and_class(world):
    report = funnel(db.session.connection(), YEAR, tz=TZ)
    by_language = {f.group: steps(f) for f in report.by_language}
    assert by_language == {"da": (4, 3, 2, 2), "sv": (3, 2, 1, 0), "en": (3, 3, 2, 1)}
    assert [(f.group, steps(f)) for f in report.by_class] == [
        ("A", (5, 5, 4, 3)), ("B", (3, 2, 1, 0)), ("unclassified", (2, 1, 0, 0)),
    ]  # fmt: skip


def test_funnel_rates_are_wilson_intervals_on_the_right_base(world):
    total = funnel(db.session.connection(), YEAR, tz=TZ).total
    assert total.delivery_rate.value == pytest.approx(80.0)  # 8 of 10 invited
    assert total.open_rate.value == pytest.approx(62.5)  # 5 of 8 delivered
    rate = total.response_rate  # 3 of 8 delivered
    assert (rate.value, rate.n) == (pytest.approx(37.5), 8)
    low, high = wilson(3, 8)
    assert (rate.low, rate.high) == (pytest.approx(low), pytest.approx(high))
    assert (round(low, 1), round(high, 1)) == (13.7, 69.4)
    assert not rate.enough


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"classes": ("A",)}, (5, 5, 4, 3)),
        ({"programme": "retain"}, (3, 2, 1, 0)),
        ({"owner": "none"}, (3, 3, 2, 1)),
        ({"language": "sv"}, (3, 2, 1, 0)),
        ({"survey": "nps"}, (8, 6, 4, 2)),
        ({"start": date(2025, 6, 1)}, (2, 2, 1, 1)),
    ],
)
def test_funnel_filters_narrow_the_counts(world, change, expected):
    report = funnel(db.session.connection(), YEAR.but(**change), tz=TZ)
    assert steps(report.total) == expected


def test_funnel_filters_by_owner_team_survey_id_and_wave(world):
    conn = db.session.connection()
    alice, bob = world["alice"], world["bob"]
    assert steps(funnel(conn, YEAR.but(owner=alice.id), tz=TZ).total) == (4, 3, 2, 2)
    assert steps(funnel(conn, YEAR.but(team=bob.team_id), tz=TZ).total) == (3, 2, 1, 0)
    csi = str(world["csi"].id)
    assert steps(funnel(conn, YEAR.but(survey=csi), tz=TZ).total) == (2, 2, 1, 1)
    assert steps(funnel(conn, YEAR.but(wave=world["w2"].id), tz=TZ).total) == (2, 2, 1, 1)


def test_funnel_period_is_the_local_send_date(world):
    """A wave sent at 23:30 UTC on 31 December went out on 1 January in Copenhagen."""
    edge = Wave(survey_id=world["nps"].id, status="open", sent_at=at(2024, 12, 31, 23, 30),
                closes_at=at(2025, 1, 14, 9), audience={})  # fmt: skip
    db.session.add(edge)
    db.session.flush()
    contact = db.session.query(Contact).filter_by(email="k4@x.test").one()
    db.session.add(Invitation(wave_id=edge.id, contact_id=contact.id,
                              customer_id=contact.customer_id, token="edge", language="da",
                              state="sent", sent_at=edge.sent_at))  # fmt: skip
    db.session.commit()
    rebuild_answer_facts()
    conn = db.session.connection()
    assert steps(funnel(conn, YEAR, tz=TZ).total) == (11, 9, 5, 3)
    before = Filters(start=date(2024, 1, 1), end=date(2024, 12, 31))
    assert edge.id not in [w.wave_id for w in funnel(conn, before, tz=TZ).waves]


def test_nonresponse_per_quarter(world):
    points = nonresponse_by_period(db.session.connection(), YEAR, tz=TZ)
    assert [(p.period, p.silent, p.counted) for p in points] == [
        ("2025-Q1", 2, 3), ("2025-Q2", 2, 4), ("2025-Q3", 0, 0), ("2025-Q4", 0, 0),
    ]  # fmt: skip
    q1 = points[0].estimate
    assert q1.value == pytest.approx(200 / 3)
    assert (q1.low, q1.high) == tuple(pytest.approx(x) for x in wilson(2, 3))
    assert not q1.enough and points[2].estimate.n == 0


def test_nonresponse_per_month_puts_a_wave_closing_after_local_midnight_in_april(world):
    points = nonresponse_by_period(db.session.connection(), YEAR.but(grain="month"), tz=TZ)
    assert len(points) == 12
    counted = {p.period: (p.silent, p.counted) for p in points if p.counted}
    assert counted == {"2025-03": (2, 3), "2025-04": (1, 2), "2025-06": (1, 2)}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"language": "sv"}, [(1, 1), (1, 1)]),
        ({"classes": ("A",)}, [(1, 2), (0, 2)]),
        ({"programme": "retain"}, [(1, 1), (1, 1)]),
        ({"owner": "none"}, [(1, 1), (0, 1)]),
        ({"survey": "relationship"}, [(0, 0), (1, 2)]),
    ],
)
def test_nonresponse_filters(world, change, expected):
    points = nonresponse_by_period(db.session.connection(), YEAR.but(**change), tz=TZ)
    assert [(p.silent, p.counted) for p in points[:2]] == expected


def test_nonresponse_filters_by_owner_team_and_wave(world):
    conn = db.session.connection()
    by_owner = nonresponse_by_period(conn, YEAR.but(owner=world["alice"].id), tz=TZ)
    assert [(p.silent, p.counted) for p in by_owner[:2]] == [(0, 1), (1, 2)]  # c1 and c4
    by_team = nonresponse_by_period(conn, YEAR.but(team=world["bob"].team_id), tz=TZ)
    assert [(p.silent, p.counted) for p in by_team[:2]] == [(1, 1), (1, 1)]
    by_wave = nonresponse_by_period(conn, YEAR.but(wave=world["w3"].id), tz=TZ)
    assert [(p.silent, p.counted) for p in by_wave[:2]] == [(0, 0), (1, 2)]


def test_render_and_table(world):
    ctx = make_context(YEAR)
    body = VIEW.render(ctx)
    assert {"funnel-total", "funnel-nonresponse", "funnel-waves", "funnel-language",
            "funnel-class"} <= ids(body)  # fmt: skip
    text = texts(body)
    assert "Response rate" in text and "37.5 %" in text
    assert "too few" in text  # 8 delivered invitations is below MIN_N
    assert "undercounted" in text  # the footnote says opens are undercounted
    columns, rows = VIEW.table(ctx)
    assert columns[:6] == ["dimension", "group", "invited", "delivered", "opened", "answered"]
    assert rows[0][:6] == ["all", "all waves", 10, 8, 5, 3]
    assert rows[0][columns.index("response_rate")] == 37.5
    assert [r[1] for r in rows if r[0] == "wave"] == [
        "Quarterly NPS: wave of 10 Mar 2025", "Relationship: wave of 12 Mar 2025",
        "Quarterly NPS: wave of 10 Jun 2025",
    ]  # fmt: skip
    silence = [r for r in rows if r[0] == "non-response period"]
    assert [(r[1], r[columns.index("customers_silent")]) for r in silence][:2] == [
        ("2025-Q1", 2), ("2025-Q2", 2),
    ]  # fmt: skip
    assert all(len(r) == len(columns) for r in rows)


def test_no_data_gives_a_clear_note():
    ctx = make_context(YEAR)
    body = VIEW.render(ctx)
    assert "No invitations were sent" in texts(body)
    report = funnel(ctx.conn, YEAR, tz=TZ)
    assert steps(report.total) == (0, 0, 0, 0) and report.waves == []
    assert report.total.response_rate == stats.EMPTY
    columns, rows = VIEW.table(ctx)
    assert rows[0][:6] == ["all", "all waves", 0, 0, 0, 0]


def test_a_wave_filter_that_matches_nothing_is_empty_not_an_error(world):
    ctx = make_context(YEAR.but(wave=999_999, language="nb"))
    assert "No invitations were sent" in texts(VIEW.render(ctx))


def test_short_period_ticks_fit_a_half_width_chart():
    from dashboards.figures import short_period_ticks

    ticks = short_period_ticks(["2025-11", "2025-12", "2026-01", "2026-02"], [40, 0, 1234, 0])
    assert [t.split("<br>")[0] for t in ticks] == ["Nov", "Dec", "Jan", "Feb"]
    assert "2025" in ticks[0] and "2026" in ticks[2] and "20" not in ticks[1]  # years once
    assert "n=1,234" in ticks[2] and "n=" not in ticks[1]  # empty months carry no n
    assert short_period_ticks(["2025-Q4"], [7])[0].startswith("2025-Q4<br>")
