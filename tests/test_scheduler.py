"""The in-process scheduler: one leader per instance folder, jobs run when due."""

from datetime import timedelta

from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.jobs.registry import JOBS, Job, run_job
from feedback.jobs.scheduler import Scheduler
from feedback.surveys.models import Survey, Wave


def _open_wave(closes_in: timedelta) -> Wave:
    survey = Survey(name=f"S {closes_in}", template_key="nps")
    wave = Wave(survey=survey, status="open", audience={}, closes_at=utcnow() + closes_in)
    db.session.add(wave)
    db.session.commit()
    return wave


def test_only_one_scheduler_leads(app, tmp_path):
    lock = tmp_path / "scheduler.lock"
    first, second = Scheduler(app, lock), Scheduler(app, lock)
    try:
        assert first._has_lock() is True
        assert second._has_lock() is False
        first._lock_file.close()  # the leader's process exits
        first._lock_file = None
        assert second._has_lock() is True
    finally:
        for scheduler in (first, second):
            if scheduler._lock_file is not None:
                scheduler._lock_file.close()


def test_due_jobs_run_and_wait_their_interval(app, tmp_path, monkeypatch):
    past = _open_wave(timedelta(minutes=-1))
    future = _open_wave(timedelta(days=1))
    ran = []
    fake_send = Job("send_due_invitations", 60, lambda app: ran.append("send") or "ok")
    monkeypatch.setitem(JOBS, "send_due_invitations", fake_send)
    fake_remind = Job("send_due_reminders", 900, lambda app: ran.append("remind") or "ok")
    monkeypatch.setitem(JOBS, "send_due_reminders", fake_remind)
    scheduler = Scheduler(app, tmp_path / "lock")
    assert sorted(scheduler.run_due(now=1000.0)) == sorted(JOBS)
    assert scheduler.run_due(now=1001.0) == []  # nothing is due a second later
    # every 60 s: sending, routing and telling people about new cases (webhooks every 5 s)
    assert sorted(scheduler.run_due(now=1061.0)) == [
        "acknowledge_cases",
        "deliver_webhooks",
        "notify_new_cases",
        "route_answers",
        "send_due_invitations",
    ]
    assert ran == ["send", "remind", "send"]
    db.session.expire_all()
    assert db.session.get(Wave, past.id).status == "closed"
    assert db.session.get(Wave, future.id).status == "open"


def test_run_job_closes_due_waves(app):
    wave = _open_wave(timedelta(seconds=-5))
    assert run_job(app, "close_due_waves") == "1 waves closed"
    assert run_job(app, "close_due_waves") == "0 waves closed"  # idempotent
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).closed_at is not None


def test_jobs_run_cli(runner):
    result = runner.invoke(args=["jobs", "run", "close_due_waves"])
    assert result.exit_code == 0 and "waves closed" in result.output
    result = runner.invoke(args=["jobs", "run", "nothing"])
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_worker_needs_redis(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 1 and "FEEDBACK_REDIS_URL is not set" in result.output
