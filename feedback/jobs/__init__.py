"""Background jobs: plain, idempotent functions, run by Celery on Redis when configured and
by an in-process scheduler otherwise. Each job commits its own work in small steps."""
