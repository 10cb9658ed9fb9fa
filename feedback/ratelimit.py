"""Rate-limit storage for a process without Redis.

The `limits` package's memory storage restarts its expiry timer from whichever request finds
it stopped; two threads doing that at once start the same timer twice and one request fails
with "threads can only be started once". gunicorn's threaded workers hit that under load.
This storage serialises the restart. With FEEDBACK_REDIS_URL the limits live in Redis.
"""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage

SCHEME = "feedback-memory"


class ThreadSafeMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, **options) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(uri, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides the private hook
        with self._timer_lock:
            if not self.timer.is_alive():
                self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)
                self.timer.daemon = True
                self.timer.start()


def public_rate_limit() -> str:
    """The limit of the customer-facing pages (survey, unsubscribe, follow-up), per address."""
    from flask import current_app

    return current_app.config["FEEDBACK_PUBLIC_RATE_LIMIT"]
