"""SendGrid v3 Mail Send with the official client: up to 1,000 recipients per request.

Recipients who get the same words share one request; their token and names travel as
per-personalization `substitutions`, the invitation id as `custom_args` (it comes back in
webhook events). Never twice: a request is retried only when SendGrid answered that it did
not take it (429 after `X-RateLimit-Reset`, 5xx with backoff). A request whose answer never
came (timeout) may have been accepted, so its invitations are not retried but marked failed
with the reason, for a person to look at; a double survey is worse than a missing one.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from feedback.delivery.message import DeliveryError, OutgoingMessage, SendResult

log = logging.getLogger(__name__)
MAX_PERSONALIZATIONS = 1000


class SendGridBackend:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        sender: tuple[str, str],
        *,
        host: str = "https://api.sendgrid.com",
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise DeliveryError("FEEDBACK_SENDGRID_API_KEY is not set")
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.client.client.timeout = timeout
        self.sender = sender
        self.max_attempts, self.max_wait = max_attempts, max_wait
        self.sleep, self.clock = sleep, clock

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for group in _by_content(messages):
            for start in range(0, len(group), MAX_PERSONALIZATIONS):
                chunk = group[start : start + MAX_PERSONALIZATIONS]
                results.extend(self._post(chunk))
        return results

    def payload(self, chunk: list[OutgoingMessage]) -> dict:
        content = chunk[0].content
        sender_email, sender_name = self.sender
        return {
            "from": {"email": sender_email, **({"name": sender_name} if sender_name else {})},
            "subject": content.subject,
            "content": [
                {"type": "text/plain", "value": content.text},
                {"type": "text/html", "value": content.html},
            ],
            "personalizations": [_personalization(m) for m in chunk],
            # Our links carry the token; SendGrid's click tracking would rewrite them.
            "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
        }

    def _post(self, chunk: list[OutgoingMessage]) -> list[SendResult]:
        body = self.payload(chunk)
        ids = [m.invitation_id for m in chunk]
        server_errors = 0
        for _attempt in range(self.max_attempts):
            try:
                self.client.client.mail.send.post(request_body=body)
                return [SendResult(i, ok=True) for i in ids]
            except HTTPError as exc:
                status = exc.status_code
                detail = f"SendGrid {status}: {_text(exc.body)[:300]}"
                if status == 429:
                    self.sleep(self._reset_wait(exc.headers))
                    continue
                if status >= 500:
                    self.sleep(min(self.max_wait, 0.5 * 2**server_errors))
                    server_errors += 1
                    continue
                if status in (401, 403):  # our key is wrong: nothing in this batch can go
                    raise DeliveryError(detail) from None
                return [SendResult(i, False, True, detail) for i in ids]
            except TimeoutError as exc:
                return [SendResult(i, False, True, f"no answer from SendGrid ({exc})") for i in ids]
            except URLError as exc:
                if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                    return [SendResult(i, False, True, f"no answer from SendGrid ({exc.reason})")
                            for i in ids]  # fmt: skip
                raise DeliveryError(f"cannot reach SendGrid: {exc.reason}") from None
        log.warning("SendGrid still refusing after %s attempts", self.max_attempts)
        return [SendResult(i, False, False, "SendGrid kept refusing; will retry") for i in ids]

    def _reset_wait(self, headers) -> float:
        """Seconds until X-RateLimit-Reset (a Unix time), within [0.05, max_wait]."""
        try:
            reset = float(headers.get("X-RateLimit-Reset"))
        except (TypeError, ValueError, AttributeError):
            return 1.0
        return max(0.05, min(self.max_wait, reset - self.clock()))


def _by_content(messages: list[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    groups: dict = {}  # equal contents share a request (string hashes are cached: cheap)
    for message in messages:
        groups.setdefault(message.content, []).append(message)
    return list(groups.values())


def _personalization(message: OutgoingMessage) -> dict:
    to = {"email": message.to_email}
    if message.to_name:
        to["name"] = message.to_name
    return {
        "to": [to],
        "substitutions": message.substitutions,
        "custom_args": {f"{message.kind}_id": str(message.invitation_id)},
        "headers": message.headers,
    }


def _text(body) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        errors = json.loads(body).get("errors", [])
        return "; ".join(e.get("message", "") for e in errors) or str(body)
    except (ValueError, AttributeError):
        return str(body)
