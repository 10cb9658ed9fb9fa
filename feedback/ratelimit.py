"""Rate-limit storage for a process without Redis.

The `limits` package's memory storage drops expired counters from a timer thread that it
restarts, 10 ms after the last start, from whichever request finds it stopped. Under load
that is a new thread about every 10 ms per process (a tenth of the answering lane's time),
and two threads restarting it at once fail a request with "threads can only be started
once" (gunicorn's threaded workers hit that). Counters are checked for expiry when read, so
the sweep only frees memory: here the request that finds it due runs it inline, at most
once a second. With FEEDBACK_REDIS_URL the limits live in Redis.
"""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

SCHEME = "feedback-memory"
SWEEP_SECONDS = 1.0


class ThreadSafeMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, **options) -> None:
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides the private hook
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()


def public_rate_limit() -> str:
    """The limit of the customer-facing pages (survey, unsubscribe, follow-up), per address."""
    from flask import current_app

    return current_app.config["FEEDBACK_PUBLIC_RATE_LIMIT"]
