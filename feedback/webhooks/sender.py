"""One signed POST of an event to an endpoint (Standard Webhooks), through a pooled session.

Headers: `webhook-id` (the event's stable id, the same on every retry and resend, so a
receiver can drop repeats), `webhook-timestamp` (seconds, when sent), `webhook-signature`
(`v1,<base64 HMAC-SHA256>`; during a secret rotation one per secret, space-separated),
`Content-Type: application/json`, `User-Agent: FeedbackLoop-Webhooks/1`. Redirects are not
followed: a 3xx counts as a failure, like any answer outside 2xx.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import requests
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook

USER_AGENT = "FeedbackLoop-Webhooks/1"
EXCERPT = 500  # characters of the answer kept per attempt
_session: requests.Session | None = None
_session_lock = threading.Lock()


def http_session() -> requests.Session:
    """The process's one pooled session (keep-alive to each endpoint), made on first use."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                session = requests.Session()
                adapter = HTTPAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                session.trust_env = False  # no proxy or .netrc from the environment
                _session = session
    return _session


def message_id(event_id: int) -> str:
    return f"evt_{event_id}"


def body_of(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)


def signed_headers(msg_id: str, body: str, secrets: list[str], moment: datetime) -> dict:
    signature = " ".join(_signer(secret).sign(msg_id, moment, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    attempted_at: datetime
    status: int | None  # None: no HTTP answer (refused, timed out, TLS, DNS)
    duration_ms: int
    error: str = ""
    excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(session: requests.Session, delivery_id: int, url: str, body: str, headers: dict,
         *, timeout: float, attempted_at: datetime) -> Outcome:  # fmt: skip
    started = time.perf_counter()
    try:
        answer = session.post(url, data=body.encode(), headers=headers, timeout=timeout,
                              allow_redirects=False)  # fmt: skip
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
        return Outcome(delivery_id, attempted_at, None, _ms(started), error[:500])
    excerpt = answer.text[:EXCERPT] if answer.content else ""
    error = "" if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    return Outcome(delivery_id, attempted_at, answer.status_code, _ms(started), error, excerpt)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
