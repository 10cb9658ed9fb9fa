"""The WSGI entry point for gunicorn: the one module that builds an app at import.

Without Redis (the embedded default, `make demo`) the background jobs run in this process,
on a scheduler thread; with FEEDBACK_REDIS_URL set, `feedback worker` runs them instead.
"""

from feedback import create_app

app = create_app()

if not app.config["FEEDBACK_REDIS_URL"] and app.config["FEEDBACK_SCHEDULER"] == "auto":
    from feedback.jobs.scheduler import start_scheduler

    scheduler = start_scheduler(app)
