"""What a delivery backend is handed and what it hands back.

One wave sends the same words to thousands of contacts; only the link token and the names
differ. So a message is a shared `MailContent` (rendered once per template version, language
and kind) plus per-recipient substitutions, which SendGrid applies server-side (one request
carries up to 1,000 recipients) and the outbox and SMTP backends apply locally.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class DeliveryError(Exception):
    """The backend could not take the batch at all (down, misconfigured); try again later."""


@dataclass(frozen=True)
class MailContent:
    subject: str
    html: str
    text: str
    language: str


@dataclass(frozen=True)
class OutgoingMessage:
    invitation_id: int
    to_email: str
    to_name: str
    content: MailContent
    substitutions: dict[str, str] = field(default_factory=dict)
    # RFC 8058 one-click unsubscribe: List-Unsubscribe and List-Unsubscribe-Post.
    headers: dict[str, str] = field(default_factory=dict)
    # What `invitation_id` identifies: "invitation" (survey mail) or "case" (staff mail), so
    # delivery events about a staff mail are never taken for an invitation's.
    kind: str = "invitation"

    def _fill(self, text: str) -> str:
        for tag, value in self.substitutions.items():
            text = text.replace(tag, value)
        return text

    @property
    def subject(self) -> str:
        return self._fill(self.content.subject)

    @property
    def html(self) -> str:
        return self._fill(self.content.html)

    @property
    def text(self) -> str:
        return self._fill(self.content.text)


@dataclass(frozen=True)
class SendResult:
    invitation_id: int
    ok: bool
    permanent: bool = False  # a refusal that retrying will not fix (bad address)
    detail: str = ""


def parse_sender(value: str) -> tuple[str, str]:
    """'Nordlys Supply <survey@example.com>' -> (email, name)."""
    from email.utils import parseaddr

    name, email = parseaddr(value)
    if "@" not in email:
        raise ValueError(f"sender {value!r} has no e-mail address")
    return email, name
