"""In-process scheduler for the embedded default (no Redis): one daemon thread runs the jobs.

Under gunicorn every worker process starts the thread, but only the process holding an
exclusive lock on `instance/scheduler.lock` runs jobs; if it exits, another takes over at
its next tick. (The jobs are safe to run twice anyway; the lock just avoids waste.)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from pathlib import Path

from feedback.jobs.registry import JOBS, run_job

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, app, lock_path: Path, tick_seconds: float = 5.0):
        self.app = app
        self.lock_path = lock_path
        self.tick_seconds = tick_seconds
        self._lock_file = None
        self._next_run = dict.fromkeys(JOBS, 0.0)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="feedback-scheduler", daemon=True)

    def start(self) -> Scheduler:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self.thread.join(timeout)
        if self._lock_file is not None:
            self._lock_file.close()

    def _has_lock(self) -> bool:
        if self._lock_file is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+")  # noqa: SIM115 (held open while we lead)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    def run_due(self, now: float) -> list[str]:
        """Run every job whose time has come; returns the names run."""
        ran = []
        for name, job in JOBS.items():
            if now < self._next_run[name]:
                continue
            self._next_run[name] = now + job.every_seconds
            with contextlib.suppress(Exception):  # logged by run_job; keep ticking
                run_job(self.app, name)
            ran.append(name)
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._has_lock():
                self.run_due(time.monotonic())
            self._stop.wait(self.tick_seconds)


def start_scheduler(app) -> Scheduler:
    return Scheduler(app, Path(app.instance_path) / "scheduler.lock").start()
