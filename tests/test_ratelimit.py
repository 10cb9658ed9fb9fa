"""The in-process rate-limit storage restarts its expiry timer one thread at a time.

`limits`' own memory storage lets two threads restart the timer together, and then one of
them starts the same timer twice ("threads can only be started once", a 500 under load in
a threaded gunicorn worker). The race is rare, so the test widens it: a timer that takes a
while to create and never stays alive, and counts how many threads create one at once."""

from __future__ import annotations

import threading
import time

import pytest
from limits.storage import MemoryStorage

from feedback.ratelimit import ThreadSafeMemoryStorage


class _SlowTimer:
    active = 0
    most = 0
    lock = threading.Lock()

    def __init__(self, interval, function) -> None:
        with _SlowTimer.lock:
            _SlowTimer.active += 1
            _SlowTimer.most = max(_SlowTimer.most, _SlowTimer.active)
        time.sleep(0.002)
        with _SlowTimer.lock:
            _SlowTimer.active -= 1

    def start(self) -> None:
        pass

    def is_alive(self) -> bool:
        return False  # always expired: every hit restarts it

    daemon = True


def _most_concurrent_restarts(storage_class, monkeypatch) -> int:
    monkeypatch.setattr(threading, "Timer", _SlowTimer)
    _SlowTimer.most = 0
    storage = storage_class("feedback-memory://")
    barrier = threading.Barrier(16)

    def hit() -> None:
        barrier.wait()
        for _ in range(20):
            storage.incr("key", expiry=60)

    threads = [threading.Thread(target=hit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _SlowTimer.most


def test_timer_restarts_are_serialised(monkeypatch):
    assert _most_concurrent_restarts(ThreadSafeMemoryStorage, monkeypatch) == 1


def test_the_library_storage_races_without_it(monkeypatch):
    """Shows the race the class above exists for (so the test above can fail)."""
    most = _most_concurrent_restarts(MemoryStorage, monkeypatch)
    if most == 1:
        pytest.skip("the scheduler happened not to interleave the threads this time")
    assert most > 1


def test_the_app_uses_it_without_redis(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "feedback-memory://"
