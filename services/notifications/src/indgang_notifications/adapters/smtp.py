"""Sending e-mail over SMTP (aiosmtplib), with TLS/STARTTLS and login configurable."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.settings import NotificationSettings


class SmtpSender:
    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def build(
        self, recipient: str, message_id: str, subject: str, text: str, html: str, language: str
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._s.mail_from
        msg["To"] = recipient
        msg["Subject"] = subject
        # The same Message-ID on every attempt: a duplicate after a crash between
        # the server's "250 OK" and our bookkeeping can be recognised and dropped.
        msg["Message-ID"] = message_id
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        # After the body: set_content() drops Content-* headers set before it.
        msg["Content-Language"] = language
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
        except aiosmtplib.SMTPRecipientsRefused as exc:
            permanent = all(r.code >= 500 for r in exc.recipients)
            raise SendFailed(f"recipient refused: {exc}", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is the server's final word; 4xx (greylisting, full mailbox) may pass later.
            raise SendFailed(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
