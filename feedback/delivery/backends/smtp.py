"""Sends through the company's own mail server; one connection per batch."""

from __future__ import annotations

import contextlib
import smtplib
import ssl

from feedback.delivery.backends.mime import to_mime
from feedback.delivery.message import DeliveryError, OutgoingMessage, SendResult


class SmtpBackend:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        sender: tuple[str, str],
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def _connect(self) -> smtplib.SMTP:
        try:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                connection.starttls(context=ssl.create_default_context())
            if self.username:
                connection.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from None
        return connection

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        connection = self._connect()
        results = []
        try:
            for position, message in enumerate(messages):
                try:
                    connection.send_message(to_mime(message, self.sender))
                except smtplib.SMTPRecipientsRefused as exc:
                    detail = "; ".join(f"{code} {text!r}" for code, text in exc.recipients.values())
                    results.append(SendResult(message.invitation_id, False, True, detail))
                except smtplib.SMTPResponseException as exc:
                    permanent = 500 <= exc.smtp_code < 600
                    results.append(
                        SendResult(message.invitation_id, False, permanent, f"{exc.smtp_code}")
                    )
                except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
                    # The server went away: this one's fate is unknown, so it is not retried
                    # (a double survey is worse than a missing one); the rest go back to pending.
                    results.append(SendResult(message.invitation_id, False, True, str(exc)))
                    results.extend(
                        SendResult(m.invitation_id, False, False, "connection lost")
                        for m in messages[position + 1 :]
                    )
                    return results
                else:
                    results.append(SendResult(message.invitation_id, True))
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()
        return results
