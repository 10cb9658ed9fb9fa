"""Never twice: two senders at once, a sender that crashed mid-batch, and a real Celery worker
on Redis running the sending job."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.sendgrid_server import SendGridServer

from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.delivery.backends.sendgrid import SendGridBackend
from feedback.extensions import db
from feedback.jobs.invitations import send_due_invitations
from feedback.surveys import dispatch
from feedback.surveys.models import Invitation
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates

SENDER = ("no-reply@nordlys.test", "Nordlys Supply")
REDIS_URL = os.environ.get("FEEDBACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def sendgrid():
    server = SendGridServer().start()
    yield server
    server.stop()


@pytest.fixture
def wave_of(create_customer):
    def factory(size: int):
        templates = load_templates()
        for n in range(size):
            customer = create_customer(language=("da", "sv", "nb", "en")[n % 4])
            db.session.add(Contact(customer_id=customer.id, email=f"k{n}@kunde.test",
                                   name=f"K {n}", language=customer.language))  # fmt: skip
        survey = create_survey("Never twice", "nps", templates=templates, actor=None)
        wave = create_wave(survey, audience={}, actor=None)
        db.session.commit()
        dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=90)
        db.session.commit()
        return wave.id

    return factory


def _backend(server):
    return SendGridBackend("SG.test", SENDER, host=server.url, sleep=lambda s: None)


def _states() -> dict[str, int]:
    db.session.remove()
    rows = db.session.execute(select(Invitation.state, func.count()).group_by(Invitation.state))
    return dict(rows.all())


def test_two_senders_at_once_send_each_invitation_once(app, wave_of, sendgrid, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite has one writer at a time; the race is real on PostgreSQL")
    wave_of(60)
    config = {**app.config, "FEEDBACK_SEND_BATCH": 5}
    barrier, errors = threading.Barrier(2), []

    def sender():
        with app.app_context():
            try:
                barrier.wait()
                send_due_invitations(config, _backend(sendgrid))
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    accepted = sendgrid.accepted_invitations()
    assert len(accepted) == len(set(accepted)) == 60
    assert _states() == {"sent": 60}


def test_a_batch_whose_sender_crashed_is_not_sent_again_until_a_person_says_so(
    app, wave_of, sendgrid
):
    wave_id = wave_of(8)
    now = utcnow()
    claim, recipients = dispatch.claim_pending(now=now, limit=3)
    db.session.commit()  # ...and the sender died here: did the mails go out? Unknown.
    assert len(recipients) == 3
    report = send_due_invitations(app.config, _backend(sendgrid), now=now)
    assert report.sent == 5
    assert _states() == {"sent": 5, "sending": 3}
    later = now + timedelta(minutes=20)
    assert dispatch.count_interrupted(wave_id, now=later) == 3
    assert dispatch.requeue_interrupted(wave_id, now=later) == 3
    db.session.commit()
    assert send_due_invitations(app.config, _backend(sendgrid), now=later).sent == 3
    accepted = sendgrid.accepted_invitations()
    assert len(accepted) == len(set(accepted)) == 8


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


def test_a_real_celery_worker_runs_the_sending_job(app, wave_of, database_url, outbox_dir):
    if not _redis_available():
        if os.environ.get("FEEDBACK_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required (FEEDBACK_REQUIRE_SERVICES=1) but {REDIS_URL} is down")
        pytest.skip(f"no Redis at {REDIS_URL}")
    wave_of(4)
    url = database_url
    if url.startswith("postgresql"):  # the session's own schema, as the tests see it
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
        url += "?options=" + options.replace(" ", "%20").replace("=", "%3D")
    outbox = Path(outbox_dir) / "celery"
    env = {**os.environ, "DATABASE_URL": url, "FEEDBACK_REDIS_URL": REDIS_URL,
           "FEEDBACK_SECRET_KEY": "test", "FEEDBACK_OUTBOX_DIR": str(outbox),
           "FEEDBACK_MAIL_BACKEND": "outbox",
           "FEEDBACK_INSTANCE_DIR": str(Path(outbox_dir) / "instance")}  # fmt: skip
    feedback = str(Path(sys.executable).with_name("feedback"))
    worker = subprocess.Popen(
        [feedback, "worker", "--concurrency", "1"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        from feedback.jobs.celery_app import make_celery

        celery = make_celery(app)
        celery.conf.broker_url = celery.conf.result_backend = REDIS_URL
        result = celery.send_task("feedback.send_due_invitations", queue="feedback")
        summary = result.get(timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert "sent" in summary  # the worker's beat may have sent some of them first
    assert _states() == {"sent": 4}
    deadline = time.time() + 5
    while len(list(outbox.glob("*.eml"))) < 4 and time.time() < deadline:
        time.sleep(0.1)
    assert len(list(outbox.glob("*.eml"))) == 4
    # Beat keeps its schedule in the instance folder, not in the working directory.
    assert list((Path(outbox_dir) / "instance").glob("celerybeat-schedule*"))
    assert not list(Path.cwd().glob("celerybeat-schedule*"))


def test_a_contact_who_opts_out_after_the_wave_was_built_is_not_mailed(app, wave_of, sendgrid):
    wave_of(3)
    first = db.session.scalars(select(Invitation).order_by(Invitation.id)).first()
    first.contact.status = "opted_out"
    first_id = first.id
    db.session.commit()
    report = send_due_invitations(app.config, _backend(sendgrid))
    assert report.sent == 2
    assert _states() == {"sent": 2, "failed": 1}
    assert str(first_id) not in sendgrid.accepted_invitations()
