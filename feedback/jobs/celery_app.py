"""Celery on Redis, used when FEEDBACK_REDIS_URL is set: the jobs become beat-scheduled tasks.

`feedback worker` runs a worker with an embedded beat. Tasks are the same idempotent job
functions as in the in-process scheduler, so two workers or a retried task are harmless.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery


def make_celery(app) -> Celery:
    from feedback.jobs.registry import JOBS, run_job

    url = app.config["FEEDBACK_REDIS_URL"]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    celery = Celery("feedback", broker=url, backend=url)
    celery.conf.update(
        task_acks_late=True,  # a task lost with its worker runs again; jobs are idempotent
        worker_prefetch_multiplier=1,
        task_default_queue="feedback",
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        # Beat keeps its schedule in the instance folder, not wherever it was started.
        beat_schedule_filename=str(Path(app.instance_path) / "celerybeat-schedule"),
        beat_schedule={
            name: {"task": f"feedback.{name}", "schedule": float(job.every_seconds)}
            for name, job in JOBS.items()
        },
    )
    for name in JOBS:
        celery.task(name=f"feedback.{name}")(_bind(app, name, run_job))
    return celery


def _bind(app, name, run_job):
    def task():
        return run_job(app, name)

    task.__name__ = name
    return task
