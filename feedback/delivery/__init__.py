"""E-mail delivery: rendering invitations, backends (outbox, SMTP, SendGrid), delivery events."""
