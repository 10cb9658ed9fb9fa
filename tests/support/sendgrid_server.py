"""A local stand-in for SendGrid's v3 Mail Send endpoint, for tests and benches.

It validates every request body against SendGrid's own JSON schema (a copy of
../shared/reference/sendgrid/ in tests/data/sendgrid/, with its licence) and answers from a script:
202 by default, or queued answers such as (429, {"X-RateLimit-Reset": ...}) or (500, {}).
Every request is recorded with its answer, so a test can count how often each invitation
was accepted.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data/sendgrid/mail_send.request.schema.json"


@dataclass
class Received:
    status: int
    body: dict | None
    errors: list[str]
    authorization: str


@dataclass
class SendGridServer:
    validate: bool = True
    script: deque = field(default_factory=deque)  # (status, headers) answers, then 202s
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        schema = json.loads(SCHEMA_PATH.read_text())
        self._validator = Draft202012Validator(schema)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SendGridServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, *answers: tuple[int, dict]) -> None:
        with self._lock:
            self.script.extend(answers)

    def accepted_invitations(self) -> list[str]:
        """invitation_id of every personalization SendGrid took (202), repeats included."""
        return [
            p["custom_args"]["invitation_id"]
            for r in self.received
            if r.status == 202
            for p in r.body["personalizations"]
        ]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if self.path.rstrip("/") != "/v3/mail/send":
                    return self._reply(404, {}, {"errors": [{"message": "not found"}]})
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                errors = ["body is not JSON"] if body is None else []
                if body is not None and server.validate:
                    errors = [
                        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                        for e in server._validator.iter_errors(body)
                    ]
                with server._lock:
                    status, headers = server.script.popleft() if server.script else (202, {})
                    if errors:
                        status, headers = 400, {}
                    server.received.append(
                        Received(status, body, errors, self.headers.get("Authorization", ""))
                    )
                payload = {"errors": [{"message": e} for e in errors]} if errors else None
                if status >= 400 and not payload:
                    payload = {"errors": [{"message": f"scripted {status}"}]}
                self._reply(status, headers, payload)

            def _reply(self, status: int, headers: dict, payload) -> None:
                data = json.dumps(payload).encode() if payload else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(data)))
                if data:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

        return Handler
