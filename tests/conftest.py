"""Fixtures shared by the suite. The same tests run on SQLite and, with DATABASE_URL set,
on PostgreSQL. Tests commit for real (imports use COPY, concurrency tests need committed
rows), so isolation comes from emptying every table after each test rather than rollback.
On PostgreSQL each test session works in a schema of its own inside DATABASE_URL's
database, so two runs on one server never see each other's rows."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from feedback import create_app
from feedback.config import TestConfig, normalise_database_url
from feedback.extensions import db, limiter

PASSWORD = "correct horse battery staple"


def _database_url(tmp_path_factory) -> str:
    import os

    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    url = normalise_database_url(url)
    name = urlsplit(url).path.lstrip("/")
    if "test" not in name:
        pytest.exit(f"refusing to run the suite against database {name!r}: name lacks 'test'")
    return url


def _session_schema() -> str:
    """A PostgreSQL schema of this test session's own, so concurrent runs never collide."""
    import os

    return f"feedback_test_{os.getpid()}"


def _engine_options(url: str) -> dict:
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"options": f"-c search_path={_session_schema()}"}
    return options


def _create_schema(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_session_schema()} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {_session_schema()}"))
        engine.dispose()


def _drop_schema(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_session_schema()} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


def _test_config(url: str) -> TestConfig:
    config = TestConfig(url)
    config.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(url)
    return config


@pytest.fixture(scope="session")
def outbox_dir(tmp_path_factory):
    """Where the outbox backend writes .eml files during the session."""
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="session")
def app(database_url, outbox_dir):
    _create_schema(database_url)
    config = _test_config(database_url)
    config.FEEDBACK_OUTBOX_DIR = str(outbox_dir)
    application = create_app(config)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.engine.dispose()
    _drop_schema(database_url)


@pytest.fixture(scope="session")
def make_app(database_url, outbox_dir):
    """Build another app on the same database with config overrides (e.g. thresholds)."""

    def factory(**overrides):
        config = _test_config(database_url)
        config.FEEDBACK_OUTBOX_DIR = str(outbox_dir)
        for key, value in overrides.items():
            setattr(config, key, value)
        return create_app(config)

    return factory


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture(autouse=True)
def app_context(app):
    """Each test runs inside an app context and leaves every table empty behind it."""
    with app.app_context():
        yield
        db.session.remove()
        _empty_all_tables()
        db.session.remove()
    limiter.reset()


@pytest.fixture
def db_session(app_context):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@pytest.fixture
def create_user():
    from feedback.auth.services import create_user as _create

    def factory(email=None, role="agent", password=PASSWORD, name="", team=None):
        user = _create(
            email or f"user{next(_counter)}@example.com", role, password, name=name, team_name=team
        )
        db.session.commit()
        return user

    return factory


@pytest.fixture
def create_customer():
    from feedback.customers.models import Customer

    def factory(external_id=None, name=None, owner=None, potential="medium", language="en"):
        n = next(_counter)
        customer = Customer(
            external_id=external_id or f"C{n:05d}",
            name=name or f"Customer {n}",
            owner=owner,
            potential=potential,
            language=language,
        )
        db.session.add(customer)
        db.session.commit()
        return customer

    return factory


@pytest.fixture
def add_transaction():
    from feedback.customers.models import Transaction

    def factory(customer, amount, on=None, currency="EUR", kind="order"):
        amount = Decimal(str(amount))
        tx = Transaction(
            customer_id=customer.id,
            date=on or date.today(),
            amount=-abs(amount) if kind == "credit" else amount,
            currency=currency,
            kind=kind,
            fingerprint=f"test-{next(_counter)}",
        )
        db.session.add(tx)
        db.session.commit()
        return tx

    return factory


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form on `path`, read the way a browser would see it."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


@pytest.fixture
def login(client):
    def do_login(email, password=PASSWORD):
        token = csrf_token(client, "/login")
        return client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    return do_login


@pytest.fixture
def login_as(create_user, login):
    """Create a user with `role`, log the test client in as them, return the user."""

    def do_login_as(role="agent", **kwargs):
        user = create_user(role=role, **kwargs)
        response = login(user.email)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return user

    return do_login_as


@pytest.fixture
def answer(create_customer):
    """answer(score, abc_class, programme, owner, comment, language) -> response id: a real
    NPS answer through survey, wave and invitation, with the customer in a segment run."""
    from datetime import timedelta

    from sqlalchemy import select

    from feedback.customers.models import Contact, CustomerSegment, SegmentRun
    from feedback.dbtypes import utcnow
    from feedback.responses.models import Response
    from feedback.surveys import dispatch
    from feedback.surveys.models import Invitation
    from feedback.surveys.services import create_survey, create_wave
    from feedback.surveys.templates import load_templates

    templates = load_templates()
    state = {}
    now = utcnow()

    def factory(score, abc_class="A", programme="grow", owner=None, comment="", language="en",
                answered_at=None, customer_name=None):  # fmt: skip
        answered_at = answered_at or now - timedelta(hours=1)
        potential = "high" if programme == "grow" else "low"
        customer = create_customer(owner=owner, potential=potential, language=language,
                                   name=customer_name)  # fmt: skip
        if "run" not in state:
            state["run"] = SegmentRun(as_of=date.today(), thresholds="50,30,15",
                                      base_currency="EUR")  # fmt: skip
            db.session.add(state["run"])
            db.session.flush()
        db.session.add(CustomerSegment(run_id=state["run"].id, customer_id=customer.id,
                                       revenue_12m=Decimal("125000"), abc_class=abc_class,
                                       programme=programme, rank=1))  # fmt: skip
        db.session.add(Contact(customer_id=customer.id, email=f"c@{customer.external_id}.test",
                               name="Kontakt", language=language))  # fmt: skip
        survey = create_survey(f"S {customer.external_id}", "nps", templates=templates, actor=None)
        wave = create_wave(survey, audience={"customer_external_ids": [customer.external_id]},
                           actor=None)  # fmt: skip
        db.session.commit()
        dispatch.start_wave(wave, templates=templates, now=now, quiet_days=90)
        invitation = db.session.scalar(select(Invitation).where(Invitation.wave_id == wave.id))
        response = Response(invitation_id=invitation.id, wave_id=wave.id,
                            customer_id=customer.id,
                            template_version_id=wave.template_version_id, score=score,
                            comment=comment, language=language, answered_at=answered_at,
                            updated_at=answered_at)  # fmt: skip
        db.session.add(response)
        db.session.commit()
        return response.id

    return factory


@pytest.fixture
def invite(create_customer):
    """Start a wave of `template` to one contact; return the invitation's token."""
    from sqlalchemy import select

    from feedback.customers.models import Contact
    from feedback.dbtypes import utcnow
    from feedback.surveys import dispatch
    from feedback.surveys.models import Invitation
    from feedback.surveys.services import create_survey, create_wave
    from feedback.surveys.templates import load_templates

    templates = load_templates()

    def factory(template="nps", language="da", name="Søren Østergaard"):
        customer = create_customer(language=language, name="Østergaard Byg ApS")
        contact = Contact(customer_id=customer.id, email=f"{customer.external_id}@kunde.test",
                          name=name, language=language)  # fmt: skip
        db.session.add(contact)
        db.session.commit()
        survey = create_survey(
            f"S {customer.external_id}", template, templates=templates, actor=None
        )
        wave = create_wave(survey, audience={"customer_external_ids": [customer.external_id]},
                           actor=None)  # fmt: skip
        db.session.commit()
        dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=90)
        db.session.commit()
        return db.session.scalar(select(Invitation.token).where(Invitation.wave_id == wave.id))

    return factory
