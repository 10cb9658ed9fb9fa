"""A message as RFC 5322 / MIME, for the outbox and SMTP backends."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from feedback.delivery.message import OutgoingMessage


def to_mime(message: OutgoingMessage, sender: tuple[str, str]) -> EmailMessage:
    mime = EmailMessage()
    sender_email, sender_name = sender
    mime["From"] = formataddr((sender_name, sender_email))
    mime["To"] = formataddr((message.to_name, message.to_email))
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False)
    mime["Message-ID"] = make_msgid(domain=sender_email.rpartition("@")[2])
    mime[f"X-Feedback-{message.kind.capitalize()}"] = str(message.invitation_id)
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    # After set_content(), which drops every Content-* header already set.
    mime["Content-Language"] = message.content.language
    return mime
