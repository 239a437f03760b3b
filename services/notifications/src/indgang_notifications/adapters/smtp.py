"""Sending e-mail over SMTP (aiosmtplib), with TLS/STARTTLS and login configurable."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from indgang_notifications.adapters.templates import Rendered
from indgang_notifications.settings import NotificationSettings


class SendFailed(ConnectionError):
    """The SMTP server could not take the message now (retried later)."""


class SmtpSender:
    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def build(self, recipient: str, message_id: str, rendered: Rendered) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._s.mail_from
        msg["To"] = recipient
        msg["Subject"] = rendered.subject
        msg["Message-ID"] = message_id
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
        return msg

    async def send(self, message: EmailMessage) -> None:
        s = self._s
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                start_tls=s.smtp_starttls,
                use_tls=s.smtp_tls,
                timeout=s.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
