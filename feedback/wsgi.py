"""The WSGI entry point for gunicorn: the one module that builds an app at import.

Without Redis (the embedded default, `make demo`) the background jobs run in this process,
on a scheduler thread; with FEEDBACK_REDIS_URL set, `feedback worker` runs them instead.
"""

import gc

from feedback import create_app

app = create_app()
# What start-up built (the app, the dashboard's layout and callbacks, SQLAlchemy's mappers)
# lives as long as the process. Frozen, it is no longer walked by every full garbage
# collection: one such walk cost a dashboard click 150 ms every few requests (bench/dashboard.py).
gc.freeze()

if not app.config["FEEDBACK_REDIS_URL"] and app.config["FEEDBACK_SCHEDULER"] == "auto":
    from feedback.jobs.scheduler import start_scheduler

    scheduler = start_scheduler(app)
