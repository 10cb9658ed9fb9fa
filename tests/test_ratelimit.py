"""The in-process rate-limit storage sweeps expired counters inline, without timer threads.

`limits`' own memory storage restarts a timer thread about every 10 ms under load, and lets
two threads restart it together, when one of them starts the same timer twice ("threads can
only be started once", a 500 under load in a threaded gunicorn worker). The race is rare,
so the test widens it: a timer that takes a while to create and never stays alive."""

from __future__ import annotations

import threading
import time

import pytest
from limits.storage import MemoryStorage

from feedback.ratelimit import ThreadSafeMemoryStorage


class _SlowTimer:
    active = 0
    most = 0
    created = 0
    lock = threading.Lock()

    def __init__(self, interval, function) -> None:
        with _SlowTimer.lock:
            _SlowTimer.created += 1
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
    _SlowTimer.most = _SlowTimer.created = 0
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


def test_no_timer_is_started_under_concurrent_hits(monkeypatch):
    _most_concurrent_restarts(ThreadSafeMemoryStorage, monkeypatch)
    assert _SlowTimer.created == 1  # the library constructor's own, never restarted


def test_counters_still_expire_and_the_sweep_frees_them(monkeypatch):
    storage = ThreadSafeMemoryStorage("feedback-memory://")
    sweeps = []
    original = storage._MemoryStorage__expire_events
    monkeypatch.setattr(storage, "_MemoryStorage__expire_events",
                        lambda: (sweeps.append(1), original()))  # fmt: skip
    for _ in range(50):
        storage.incr("short", expiry=0.05)
    assert storage.get("short") == 50
    assert len(sweeps) == 1  # at most one sweep a second, however many hits
    time.sleep(0.06)
    assert storage.get("short") == 0  # expired on read, sweep or not
    storage.incr("other", expiry=0.05)
    time.sleep(0.06)
    storage._next_sweep = 0.0  # the next hit finds the sweep due
    storage.incr("third", expiry=60)
    assert "other" not in storage.storage and "other" not in storage.expirations
    assert len(sweeps) == 2


def test_the_library_storage_races_without_it(monkeypatch):
    """Shows the race the class above exists for (so the test above can fail)."""
    most = _most_concurrent_restarts(MemoryStorage, monkeypatch)
    if most == 1:
        pytest.skip("the scheduler happened not to interleave the threads this time")
    assert most > 1


def test_the_app_uses_it_without_redis(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "feedback-memory://"
