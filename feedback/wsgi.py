"""The one module that builds an app at import time: `gunicorn feedback.wsgi:app`."""

from feedback import create_app

app = create_app()
