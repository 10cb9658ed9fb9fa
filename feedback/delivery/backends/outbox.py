"""Writes each message as an .eml file: the default backend, used by `make demo` and tests."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from feedback.delivery.backends.mime import to_mime
from feedback.delivery.message import DeliveryError, OutgoingMessage, SendResult


class OutboxBackend:
    name = "outbox"

    def __init__(self, directory: str | os.PathLike, sender: tuple[str, str]) -> None:
        self.directory = Path(directory)
        self.sender = sender

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"cannot create outbox {self.directory}: {exc}") from None
        results = []
        for message in messages:
            name = f"invitation-{message.invitation_id}-{secrets.token_hex(4)}.eml"
            partial = self.directory / f".{name}.part"
            try:
                partial.write_bytes(bytes(to_mime(message, self.sender)))
                partial.rename(self.directory / name)  # readers never see half a file
            except OSError as exc:
                results.append(SendResult(message.invitation_id, ok=False, detail=str(exc)))
                continue
            results.append(SendResult(message.invitation_id, ok=True))
        return results
