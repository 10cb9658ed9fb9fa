"""`feedback demo seed`: sizes, reproducibility, realism of the shape, refusals and logins."""

from __future__ import annotations

import hashlib
import stat
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from email_validator import validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from feedback.auth.models import Team, User
from feedback.customers.models import (
    Contact,
    CurrencyRate,
    Customer,
    CustomerSegment,
    SegmentRun,
    Transaction,
)
from feedback.customers.segments import window_start
from feedback.dbtypes import utcnow
from feedback.demo.models import DemoProfile
from feedback.demo.seed import (
    CURRENCIES,
    EUR_RATES,
    demo_rates,
    months_before,
    plan_customers,
)
from feedback.demo.surveys import WAVES
from feedback.extensions import db

SMALL = ["--customers", "80", "--years", "2"]
HOUR = timedelta(hours=1)


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """Logins go to a scratch instance folder, not the checkout's."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture
def seed(runner, instance):
    def run(*args):
        result = runner.invoke(args=["demo", "seed", *args])
        db.session.remove()  # the command's session; read what it committed afresh
        return result

    return run


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _logins(instance) -> dict[str, str]:
    lines = (instance / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
    return {line.split("\t")[0]: line.split("\t")[2] for line in lines if not line.startswith("#")}


def _fingerprint() -> str:
    """Every generated value, keyed by external ids (database ids may differ between runs)."""
    rows = [
        *db.session.execute(
            select(
                Customer.external_id,
                Customer.name,
                User.email,
                Customer.potential,
                Customer.language,
            )
            .outerjoin(User, User.id == Customer.owner_id)
            .order_by(Customer.external_id)
        ),
        *db.session.execute(
            select(Customer.external_id, Contact.name, Contact.email, Contact.status)
            .join(Contact.customer)
            .order_by(Customer.external_id, Contact.email)
        ),
        *db.session.execute(
            select(Customer.external_id, DemoProfile.satisfaction, DemoProfile.trajectory)
            .join(Customer, Customer.id == DemoProfile.customer_id)
            .order_by(Customer.external_id)
        ),
        *db.session.execute(
            select(
                Customer.external_id,
                Transaction.external_id,
                Transaction.date,
                Transaction.amount,
                Transaction.currency,
                Transaction.kind,
            )
            .join(Customer, Customer.id == Transaction.customer_id)
            .order_by(Transaction.external_id)
        ),
        *_worked_cases(),
    ]
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def _worked_cases() -> list:
    """The cases of the closed waves (the open wave's depend on the clock), by customer."""
    from feedback.cases.models import Case
    from feedback.responses.models import Response
    from feedback.surveys.models import Wave

    return db.session.execute(
        select(
            Customer.external_id, Case.rule_key, Case.status, Case.outcome, Case.root_cause,
            Case.created_at, Case.first_action_at, Case.closed_at, User.email,
        )
        .join(Customer, Customer.id == Case.customer_id)
        .join(Response, Response.id == Case.response_id)
        .join(Wave, Wave.id == Response.wave_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .where(Wave.status == "closed")
        .order_by(Customer.external_id, Case.created_at)
    ).all()  # fmt: skip


def _revenue_12m_eur() -> dict[int, Decimal]:
    rates = {c.currency: c.rate for c in db.session.scalars(select(CurrencyRate))}
    rates["EUR"] = Decimal(1)
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    for customer_id, currency, amount in db.session.execute(
        select(Transaction.customer_id, Transaction.currency, func.sum(Transaction.amount))
        .where(Transaction.date > window_start(date.today()))
        .group_by(Transaction.customer_id, Transaction.currency)
    ):
        revenue[customer_id] += Decimal(str(amount)) * rates[currency]
    return revenue


def test_seed_loads_the_requested_shape(seed, instance):
    result = seed(*SMALL)
    assert result.exit_code == 0, result.output
    assert "Seeded 80 customers" in result.output and str(instance) in result.output
    assert "Cases worked on those answers: " in result.output and " resolved" in result.output
    from feedback.outbox import OutboxEvent

    assert _count(OutboxEvent) == 0  # history, not news: no webhook events

    assert _count(Customer) == 80 and _count(DemoProfile) == 80
    assert 80 <= _count(Contact) <= 320
    assert _count(Transaction) > 80 * 10
    assert sorted(db.session.scalars(select(Team.name))) == [
        "Customer support",
        "Internal sales",
        "Key accounts",
        "Management",
    ]
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.feedbackloop.test"))
    assert admin.role == "admin" and admin.team.name == "Management"
    assert {c.currency: c.rate for c in db.session.scalars(select(CurrencyRate))} == {
        "DKK": Decimal("0.134"),
        "SEK": Decimal("0.087"),
        "NOK": Decimal("0.085"),
    }

    customers = list(db.session.scalars(select(Customer)))
    assert all(c.external_id.startswith("C1") and len(c.external_id) == 7 for c in customers)
    assert any(ch in c.name for c in customers for ch in "æøåäö")
    assert {c.language for c in customers} == {"da", "sv", "nb", "en"}
    assert {c.owner.team.name for c in customers if c.owner} <= {"Key accounts", "Internal sales"}
    assert 0 < sum(c.owner is None for c in customers) <= 0.04 * 80

    for customer in customers:
        emails = [contact.email for contact in customer.contacts]
        assert len(emails) == len(set(emails))
        for email in emails:
            assert validate_email(email, check_deliverability=False).normalized.lower() == email
            assert email.endswith(".example")

    kinds = dict(
        db.session.execute(select(Transaction.kind, func.count()).group_by(Transaction.kind)).all()
    )
    assert 0 < kinds["credit"] < 0.06 * _count(Transaction)
    assert (
        db.session.scalar(select(func.max(Transaction.amount)).where(Transaction.kind == "credit"))
        < 0
    )


def test_revenue_is_concentrated_in_few_customers(seed):
    assert seed(*SMALL).exit_code == 0
    revenue = sorted(_revenue_12m_eur().values(), reverse=True)
    top = revenue[: len(revenue) // 5]
    assert sum(top) > Decimal("0.5") * sum(revenue)


def test_churned_customers_have_stopped_ordering(seed):
    assert seed(*SMALL).exit_code == 0
    churned = select(DemoProfile.customer_id).where(DemoProfile.trajectory == "churned")
    assert _count(churned.subquery()) > 0
    recent = select(func.count()).where(
        Transaction.customer_id.in_(churned),
        Transaction.date >= months_before(date.today(), 4),
    )
    assert db.session.scalar(recent) == 0
    earlier = select(func.count()).where(Transaction.customer_id.in_(churned))
    assert db.session.scalar(earlier) > 0


def test_class_history_exists_for_four_dates(seed):
    assert seed(*SMALL).exit_code == 0
    today = date.today()
    runs = list(db.session.scalars(select(SegmentRun).order_by(SegmentRun.as_of)))
    assert [r.as_of for r in runs] == [months_before(today, m) for m in (9, 6, 3, 0)]
    assert all(r.customer_count == 80 for r in runs)
    assert _count(CustomerSegment) == 4 * 80
    classes = db.session.scalars(
        select(CustomerSegment.abc_class).where(CustomerSegment.run_id == runs[-1].id)
    )
    assert set(classes) == {"A", "B", "C", "D"}


def test_key_accounts_have_a_named_owner_and_a_few_small_ones_show_the_fallback(seed):
    """DOMAIN.md §2-3: class A has a named account owner in every run of the class history."""
    assert seed(*SMALL).exit_code == 0
    rows = db.session.execute(
        select(SegmentRun.as_of, CustomerSegment.abc_class, Customer.owner_id)
        .join(CustomerSegment, CustomerSegment.run_id == SegmentRun.id)
        .join(Customer, Customer.id == CustomerSegment.customer_id)
    ).all()
    assert len({as_of for as_of, _, _ in rows}) == 4
    assert [r for r in rows if r.abc_class == "A" and r.owner_id is None] == []
    assert any(r.abc_class == "A" for r in rows)
    assert any(r.abc_class != "A" and r.owner_id is None for r in rows)


def test_planned_owners_follow_size_not_chance():
    """At full demo size: the larger half all owned, the largest too; about 3 % without."""
    plan = plan_customers(np.random.default_rng(1), 2000, key=3, sales=3)
    into_eur = np.array([float(EUR_RATES.get(c, 1)) for c in CURRENCIES])[plan.language]
    revenue = plan.order_value * plan.orders_per_year * into_eur  # planned, EUR a year
    ownerless = plan.owner == -1
    assert 0.02 * 2000 <= ownerless.sum() <= 0.04 * 2000
    assert not ownerless[revenue >= np.median(revenue)].any()
    assert plan.owner[np.argmax(revenue)] >= 0


def _empty_database() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def test_same_seed_same_data(seed):
    assert seed(*SMALL, "--seed", "7").exit_code == 0
    first = _fingerprint()
    _empty_database()
    assert seed(*SMALL, "--seed", "7").exit_code == 0
    assert _fingerprint() == first


def test_another_seed_other_customers():
    def names(seed):
        return plan_customers(np.random.default_rng(seed), 80, key=3, sales=3).names

    assert names(7) == names(7) and names(7) != names(8)


def test_logins_file_is_private_and_the_passwords_work(seed, instance, login):
    result = seed(*SMALL)
    assert result.exit_code == 0
    path = instance / "demo-logins.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logins = _logins(instance)
    assert len(logins) == _count(User) >= 10
    for email, password in logins.items():
        assert password in result.output
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.check_password(password)
    assert not user.check_password(password + "x")
    response = login("admin@demo.feedbackloop.test", logins["admin@demo.feedbackloop.test"])
    assert response.status_code in (302, 303)


def test_if_empty_leaves_existing_data_alone(seed, instance):
    assert seed(*SMALL).exit_code == 0
    before = (_fingerprint(), _count(User), _count(SegmentRun))
    logins = (instance / "demo-logins.txt").read_text()

    again = seed(*SMALL, "--if-empty", "--seed", "9")
    assert again.exit_code == 0, again.output
    assert "Demo data already present (80 customers); logins are in" in again.output
    assert str(instance / "demo-logins.txt") in again.output
    assert (_fingerprint(), _count(User), _count(SegmentRun)) == before
    assert (instance / "demo-logins.txt").read_text() == logins

    refused = seed(*SMALL)
    assert refused.exit_code == 1
    assert "already holds 80 customers" in refused.output and "empty" in refused.output
    assert (_fingerprint(), _count(User)) == before[:2]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--customers", "0"], "--customers must be between 1 and 1,000,000"),
        (["--customers", "-5"], "--customers must be between 1 and 1,000,000, not -5"),
        (["--customers", "1000001"], "not 1000001"),
        (["--years", "0"], "--years must be between 1 and 10, not 0"),
        (["--years", "11"], "--years must be between 1 and 10, not 11"),
        (["--customers", "many"], "'many' is not a valid integer"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(seed, instance, args, message):
    result = seed(*args)
    assert result.exit_code != 0
    assert message in result.output
    for model in (Customer, User, Team, CurrencyRate, Transaction, SegmentRun):
        assert _count(model) == 0
    assert not (instance / "demo-logins.txt").exists()


def test_the_transactions_table_keeps_its_constraints(seed):
    """PostgreSQL loads without indexes and foreign key and rebuilds them; they must be back."""
    assert seed(*SMALL).exit_code == 0
    existing = db.session.scalars(select(Transaction).limit(1)).one()
    duplicate = dict(customer_id=existing.customer_id, external_id=existing.external_id)
    orphan = dict(customer_id=existing.customer_id + 10_000, external_id="INV-0")
    for values in (duplicate, orphan):
        db.session.add(
            Transaction(date=date.today(), amount=1, currency="EUR", kind="order", **values)
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_rates_are_crossed_into_another_base_currency():
    rates, notes = demo_rates("DKK")
    assert rates == {
        "EUR": Decimal("7.46268657"),
        "SEK": Decimal("0.64925373"),
        "NOK": Decimal("0.63432836"),
    }
    assert not notes
    assert demo_rates("USD")[1] == ["base currency USD is unknown here: stored the EUR rates"]


def test_survey_history_follows_hidden_satisfaction(seed):
    from feedback.responses.models import Response
    from feedback.surveys.models import Invitation, Wave

    assert seed("--customers", "300", "--years", "2", "--seed", "5").exit_code == 0
    statuses = db.session.scalars(select(Wave.status).order_by(Wave.sent_at)).all()
    assert statuses == ["closed"] * (len(WAVES) - 1) + ["open"]  # two years of waves
    rows = db.session.execute(
        select(DemoProfile.satisfaction, Response.score, Response.comment, Response.language).join(
            Response, Response.customer_id == DemoProfile.customer_id
        )
    ).all()
    satisfaction = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows])
    assert np.corrcoef(satisfaction, scores)[0, 1] > 0.6
    assert {r[3] for r in rows} == {"en", "da", "sv", "nb"}
    assert sum(1 for r in rows if r[2]) > len(rows) // 5
    # Silence is a signal: the unhappy answer less often than the happy.
    invited = db.session.execute(
        select(DemoProfile.satisfaction, Invitation.state == "answered").join(
            Invitation, Invitation.customer_id == DemoProfile.customer_id
        )
    ).all()
    happy = np.array([r[0] >= 0.5 for r in invited])
    answered_flags = np.array([bool(r[1]) for r in invited])
    answered = {True: answered_flags[~happy].mean(), False: answered_flags[happy].mean()}
    assert answered[True] < answered[False] - 0.1
    one_each = select(func.count(Response.id), func.count(func.distinct(Response.invitation_id)))
    total, distinct = db.session.execute(one_each).one()
    assert total == distinct > 0


def test_the_demos_churn_comes_from_hidden_satisfaction_and_the_score_sees_it(seed, app):
    """Leavers were less satisfied; scored half a year back, the churn score finds them far
    better than chance (a deterministic seed: the same figures every run)."""
    from feedback.risk import churn

    assert seed("--customers", "400", "--years", "3", "--seed", "7").exit_code == 0
    trajectories = db.session.execute(
        select(DemoProfile.trajectory, func.avg(DemoProfile.satisfaction)).group_by(
            DemoProfile.trajectory
        )
    ).all()
    mean = dict(trajectories)
    assert mean["churned"] < mean["steady"] < mean["growing"]
    result = churn.backtest(
        date.today() - timedelta(days=200), horizon_days=180, base_currency="EUR",
        nps_template_keys=["nps", "relationship"], today=date.today(),
    )  # fmt: skip
    assert result["churned"] > 10
    assert result["auc"]["combined"] > 0.75
    assert result["auc"]["nps"] > 0.55  # what customers say carries some of it too


class _Outbox:
    """A delivery backend that only counts what it is given."""

    def __init__(self) -> None:
        self.messages: list = []

    def send(self, messages):
        self.messages.extend(messages)
        return []


def test_the_survey_history_comes_with_a_year_of_worked_cases(seed, app):
    from feedback.analysis.themes import load_themes, tag_themes
    from feedback.cases.models import CLOSED_STATUSES, OPEN_STATUSES, Case, CaseEvent
    from feedback.responses.models import Response
    from feedback.surveys.models import Wave

    assert seed("--customers", "300", "--years", "2", "--seed", "5").exit_code == 0
    now = utcnow()
    rows = db.session.execute(
        select(Case, Response, Wave.status)
        .join(Response, Response.id == Case.response_id)
        .join(Wave, Wave.id == Response.wave_id)
    ).all()
    assert len(rows) > 50
    members = {u.id: u.team_id for u in db.session.scalars(select(User))}
    known = set(load_themes())
    late = 0
    for case, response, wave in rows:
        assert case.assignee_id is not None or case.team_id is not None
        assert response.answered_at < case.created_at <= case.notified_at <= now
        assert case.due_at > response.answered_at
        if wave == "closed":  # the history is done with
            assert case.status in CLOSED_STATUSES
        if case.status in CLOSED_STATUSES:
            assert case.outcome.strip() and case.assignee_id is not None
            assert case.created_at < case.first_action_at < case.closed_at <= now
            late += case.closed_at > case.due_at
        elif case.followup_solved is False:  # reopened by the customer: the outcome stays
            assert case.closed_at is None and case.outcome.strip()
        else:
            assert case.closed_at is None and case.outcome == ""
            assert (case.first_action_at is None) == (case.status == "new")
        if case.is_breached(now - HOUR) or (case.closed_at and case.closed_at > case.due_at + HOUR):
            assert case.escalated_at is not None  # escalated back then, not on first start
        themes = tag_themes(response.comment, response.language)
        if case.root_cause is not None:  # the comment's theme, else what the call brought up
            assert case.root_cause in (themes or known) and case.first_action_at is not None
        events = sorted(case.events, key=lambda e: e.id)
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert events[0].kind == "created" and events[0].at == case.created_at
        for event in events:
            if event.actor_id is not None:  # the assignee, or someone of the case's team
                assert event.actor_id == case.assignee_id or members[event.actor_id] in (
                    case.team_id,
                    members.get(case.assignee_id),
                )
        if case.status in CLOSED_STATUSES:
            last = max(i for i, e in enumerate(events) if e.kind == "resolved")
            assert case.outcome in events[last].detail  # then only the customer's follow-up
            assert {e.kind for e in events[last + 1 :]} <= {"followup_sent", "followup"}
            assert case.first_action_at == min(e.at for e in events if e.actor_id is not None)

    closed = [c for c, _r, _w in rows if c.status in CLOSED_STATUSES]
    assert 0.75 <= 1 - late / len(closed) <= 0.95  # most within their deadline, not all
    assert 0.8 < sum(c.status == "resolved" for c in closed) / len(closed) < 1
    assert len({c.outcome for c in closed}) > len(closed) // 3  # written, not one template
    assert any(c.root_cause for c in closed)
    latest = [c for c, _r, w in rows if w == "open"]
    assert any(c.status in OPEN_STATUSES for c in latest)
    kinds = set(db.session.scalars(select(CaseEvent.kind)))
    assert {"created", "assigned", "status", "comment", "resolved", "escalated"} <= kinds


def test_the_jobs_find_the_history_done_when_the_demo_starts(seed, app):
    from feedback.cases.customer_mail import acknowledge_cases, send_followups
    from feedback.cases.escalation import escalate_breached
    from feedback.cases.notify import notify_new_cases
    from feedback.responses.models import Response
    from feedback.routing.engine import route_pending
    from feedback.routing.rules import load_rules

    assert seed("--customers", "300", "--years", "2", "--seed", "5").exit_code == 0
    assert _count(Response) > 100
    rules = load_rules(app.config["FEEDBACK_ROUTING_FILE"])
    assert route_pending(rules, settle=timedelta(0)).decided == 0  # the seed decided them all
    outbox = _Outbox()
    assert notify_new_cases(app.config, outbox) == 0
    assert acknowledge_cases(app.config, outbox, rules) == 0
    assert send_followups(app.config, outbox) == 0
    escalate_breached(app.config, outbox)  # a case may just have run out of time
    escalate_breached(app.config, outbox, now=utcnow() + timedelta(minutes=10))
    assert len(outbox.messages) <= 6


def _share(part: int, whole: int) -> float:
    assert whole > 0
    return part / whole


def test_invitations_bounce_get_opened_and_unsubscribed_as_the_webhook_leaves_them(seed):
    """Views 4 and 6 need a funnel that narrows at every step: a few bounces and drops (the
    contact marked bounced), opens among the silent (the engaged more often), every answer
    opened, a few unsubscribes; the next wave goes to the customer's next active contact."""
    from feedback.risk.models import WaveOutcome
    from feedback.surveys.models import Invitation, InvitationEvent, Wave

    assert seed("--customers", "300", "--years", "2", "--seed", "5").exit_code == 0
    invitations = {i.id: i for i in db.session.scalars(select(Invitation))}
    events = defaultdict(dict)
    for event in db.session.scalars(select(InvitationEvent)):
        assert event.kind not in events[event.invitation_id]  # one of each kind at most
        events[event.invitation_id][event.kind] = event
        assert event.at > invitations[event.invitation_id].sent_at
    states = defaultdict(int)
    for invitation in invitations.values():
        states[invitation.state] += 1
    sent = len(invitations)
    assert 0.008 <= _share(states["bounced"], sent) <= 0.03
    assert 0 < states["failed"] < states["bounced"]

    contacts = {c.id: c for c in db.session.scalars(select(Contact))}
    satisfaction = dict(db.session.execute(select(DemoProfile.customer_id,
                                                  DemoProfile.satisfaction)).all())  # fmt: skip
    left = {}  # contact id -> when mail to it stopped
    opened_silent, silent = [], []
    for invitation in invitations.values():
        mine, contact = events[invitation.id], contacts[invitation.contact_id]
        if invitation.state in ("bounced", "failed"):
            kind = "bounce" if invitation.state == "bounced" else "dropped"
            assert set(mine) == {kind} and mine[kind].external_id
            assert invitation.delivered_at is None and invitation.answered_at is None
            assert invitation.reminders_sent == 0 and contact.status == "bounced"
            left[contact.id] = mine[kind].at
        elif invitation.state == "answered":
            assert mine["open"].at <= invitation.answered_at and "unsubscribed" not in mine
            assert "click" not in mine or mine["open"].at <= mine["click"].at
        else:
            silent.append(satisfaction[invitation.customer_id])
            if "open" in mine:
                opened_silent.append(silent[-1])
            if "unsubscribed" in mine:
                assert contact.status == "opted_out" and mine["unsubscribed"].external_id is None
                left[contact.id] = mine["unsubscribed"].at
    assert 0.15 <= _share(len(opened_silent), len(silent)) <= 0.4
    assert np.mean(opened_silent) > np.mean(silent) + 0.01  # the engaged open more often
    assert sum(c.status == "opted_out" for c in contacts.values() if c.id in left) > 0
    for invitation in invitations.values():  # nobody is mailed after a bounce or opt-out
        stopped = left.get(invitation.contact_id)
        assert stopped is None or invitation.sent_at < stopped or invitation.id in events

    # Outcomes as each close recorded them: bounces are undelivered, unsubscribes opted out.
    outcomes = defaultdict(int)
    for wave_id, customer_id, outcome in db.session.execute(
        select(WaveOutcome.wave_id, WaveOutcome.customer_id, WaveOutcome.outcome)
    ):
        outcomes[outcome] += 1
        invitation = next(i for i in invitations.values()
                          if i.wave_id == wave_id and i.customer_id == customer_id)  # fmt: skip
        if outcome == "undelivered":
            assert invitation.state in ("bounced", "failed")
        elif outcome == "opted_out":
            assert "unsubscribed" in events[invitation.id]
        elif outcome == "non_response":
            assert invitation.state == "delivered" and "unsubscribed" not in events[invitation.id]
    counted = sum(outcomes.values())
    assert 0.008 <= _share(outcomes["undelivered"], counted) <= 0.04
    assert 0.001 <= _share(outcomes["opted_out"], counted) <= 0.02
    recorded = db.session.execute(select(Wave.closed_at, Wave.outcomes_recorded_at)
                                  .where(Wave.status == "closed")).all()  # fmt: skip
    assert recorded and all(closed == at for closed, at in recorded)

    # The funnel narrows at every step (invited, delivered, opened, answered: view 4's steps).
    delivered = [i for i in invitations.values() if i.state in ("delivered", "answered")]
    opened = [i for i in delivered if "open" in events[i.id] or "click" in events[i.id]]
    answered = [i for i in delivered if i.state == "answered"]
    assert len(invitations) > len(delivered) > len(opened) > len(answered) > 0
    assert 0.97 <= _share(len(delivered), len(invitations)) <= 0.995
    assert _share(len(answered), len(delivered)) + 0.1 < _share(len(opened), len(delivered))


def test_cases_are_followed_up_with_the_customer_and_have_root_causes(seed, app):
    """About half of the resolved complaints ask "did we solve it?", most customers answer,
    mostly yes; a no reopens the case, which is then resolved again. Most resolved
    complaints name a root cause; thank-you cases never do."""
    from feedback.analysis.themes import load_themes
    from feedback.cases.followup import ANSWER_WINDOW
    from feedback.cases.models import CLOSED_STATUSES, Case, CaseEvent

    assert seed("--customers", "300", "--years", "2", "--seed", "5").exit_code == 0
    now = utcnow()
    cases = list(db.session.scalars(select(Case).where(Case.kind == "answer")))
    kinds = defaultdict(list)
    for event in db.session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
        kinds[event.case_id].append(event)
    complaints = [c for c in cases if not c.rule_key.endswith("promoter")]
    resolved = [c for c in complaints if c.status == "resolved"]
    asked = [c for c in complaints if c.followup_sent_at is not None]
    answered = [c for c in asked if c.followup_solved is not None]
    assert all(c.followup_sent_at is None for c in cases if c.rule_key.endswith("promoter"))
    assert 0.35 <= _share(len(asked), len(resolved)) <= 0.65
    assert 0.45 <= _share(len(answered), len(asked)) <= 0.75
    assert 0.7 <= _share(sum(c.followup_solved for c in answered), len(answered)) <= 0.95
    for case in asked:
        events = kinds[case.id]
        sent = [e for e in events if e.kind == "followup_sent"]
        assert len(sent) == 1 and sent[0].at == case.followup_sent_at and case.followup_token
        first_close = next(e for e in events if e.kind == "resolved")
        assert first_close.at < case.followup_sent_at <= first_close.at + timedelta(minutes=6)
        if case.followup_solved is None:
            assert case.status == "resolved" and len(kinds[case.id]) == len(events)
            continue
        assert case.followup_sent_at < case.followup_answered_at <= now
        assert case.followup_answered_at < case.followup_sent_at + ANSWER_WINDOW
        said = [e for e in events if e.kind == "followup"]
        assert len(said) == 1 and said[0].at == case.followup_answered_at
        closes = [e for e in events if e.kind == "resolved"]
        if case.followup_solved:
            assert said[0].detail == "Customer says the problem is solved" and len(closes) == 1
        else:
            assert "reopened (resolved → in_progress)" in said[0].detail
            assert case.due_at > case.followup_answered_at
            if case.status in CLOSED_STATUSES:  # worked again and resolved again
                assert len(closes) == 2 and closes[-1].at == case.closed_at
                assert case.closed_at > case.followup_answered_at
            else:
                assert case.status == "in_progress" and len(closes) == 1
    assert any(c.followup_solved is False and c.status == "resolved" for c in asked)

    themes = set(load_themes())
    named = [c for c in resolved if c.root_cause]
    assert {c.root_cause for c in named} <= themes and len({c.root_cause for c in named}) >= 5
    assert 0.75 <= _share(len(named), len(resolved)) <= 0.97
    closed = [c for c in cases if c.status in CLOSED_STATUSES]
    assert 0.15 <= _share(sum(c.root_cause is None for c in closed), len(closed)) <= 0.5
    assert all(c.root_cause is None for c in cases if c.rule_key.endswith("promoter"))
