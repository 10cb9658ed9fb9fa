"""Pick the delivery backend the configuration names."""

from __future__ import annotations

from feedback.delivery.message import DeliveryError, parse_sender


def backend_from_config(config):
    try:
        sender = parse_sender(config["FEEDBACK_MAIL_FROM"])
    except ValueError as exc:
        raise DeliveryError(f"FEEDBACK_MAIL_FROM: {exc}") from None
    kind = config["FEEDBACK_MAIL_BACKEND"]
    if kind == "sendgrid":
        from feedback.delivery.backends.sendgrid import SendGridBackend

        return SendGridBackend(
            config["FEEDBACK_SENDGRID_API_KEY"], sender, host=config["FEEDBACK_SENDGRID_HOST"]
        )
    if kind == "smtp":
        from feedback.delivery.backends.smtp import SmtpBackend

        return SmtpBackend(
            config["FEEDBACK_SMTP_HOST"],
            config["FEEDBACK_SMTP_PORT"],
            sender,
            username=config["FEEDBACK_SMTP_USERNAME"],
            password=config["FEEDBACK_SMTP_PASSWORD"],
            starttls=config["FEEDBACK_SMTP_STARTTLS"],
        )
    from feedback.delivery.backends.outbox import OutboxBackend

    return OutboxBackend(config["FEEDBACK_OUTBOX_DIR"], sender)
