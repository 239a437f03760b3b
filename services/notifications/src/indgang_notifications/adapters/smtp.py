"""Sending e-mail over SMTP (aiosmtplib), with TLS/STARTTLS and login configurable.

Each sender worker keeps one connection open and sends mail after mail on it:
a new connection (TCP, greeting, EHLO, perhaps TLS and login) per mail costs
more than the mail itself. The connection is opened again after any error and
after a pause, before a server's idle timeout would close it under us.
"""

from __future__ import annotations

import random
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from email import base64mime, quoprimime
from email.charset import QP, RFC2047_CHROME_LEN, SHORTEST, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, cast

import aiosmtplib

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.settings import NotificationSettings

# Servers close idle connections after a few minutes (RFC 5321 suggests 5);
# a connection unused this long is opened again instead of trusted.
IDLE_SECONDS = 30.0
# UTF-8 bodies as quoted-printable: readable in the raw mail, safe on any server.
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP
FOLD_AT = 78  # compat32's max_line_length


class QuickFolding(Compat32):
    """compat32, the policy `as_bytes` uses, with its common case taken directly: a
    header whose value is printable ASCII and whose line fits in 78 characters folds
    to itself. The general algorithm (a `Header` per header, for each of the fifteen
    in a mail) finds the same, but was most of the cost of making a mail."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= FOLD_AT
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = QuickFolding()


class OnePassUtf8(Charset):
    """UTF-8 for a header, cut into the encoded words `Charset` cuts it into, in one
    pass: `Charset.header_encode_lines` encodes and measures the whole line again for
    every character it adds (85 us for a Danish subject; most of what was left of
    making a mail). The length of an encoded prefix only grows character by
    character (quoted-printable: the sum of its bytes' lengths; base64: four per
    three bytes begun), so it is kept as a running count instead."""

    def __init__(self) -> None:
        super().__init__("utf-8")
        assert self.header_encoding == SHORTEST  # the choice made below

    def header_encode_lines(self, string: str, maxlengths: Iterator[int]) -> list[str | None]:
        whole = string.encode("utf-8")
        qp = quoprimime.header_length(whole) <= base64mime.header_length(whole)
        encoder = quoprimime.header_encode if qp else base64mime.header_encode
        extra = len("utf-8") + RFC2047_CHROME_LEN
        lines: list[str | None] = []
        start = 0  # where the line being filled begins in `string`
        size = length = 0  # its bytes, and their length encoded
        maxlen = next(maxlengths) - extra
        for at, character in enumerate(string):
            octets = character.encode("utf-8")
            grown = size + len(octets)
            longer = length + quoprimime.header_length(octets) if qp else -(-grown // 3) * 4
            if longer <= maxlen:
                size, length = grown, longer
                continue
            # This character does not fit: the line ends before it (None when not even
            # the first character fit on the first line), the next one begins with it.
            if not lines and at == start:
                lines.append(None)
            else:
                lines.append(encoder(string[start:at].encode("utf-8"), charset="utf-8"))
            start = at
            size = len(octets)
            length = quoprimime.header_length(octets) if qp else -(-size // 3) * 4
            maxlen = next(maxlengths) - extra
        lines.append(encoder(string[start:].encode("utf-8"), charset="utf-8"))
        return lines


UTF8_HEADER = OnePassUtf8()


def _boundary() -> str:
    """A boundary like the one the generator makes, without its search of the whole
    message for it (a regular expression compiled per mail): both parts are
    quoted-printable, which writes every "=" as "=3D", so no line of them can hold the
    "==" every such boundary has."""
    return "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="


def one_line(value: str) -> str:
    """`value` with every control character (CR, LF, tab, NUL, ...) as a space."""
    if value.isprintable():  # none to replace (the usual case), found in C
        return value.strip()
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in value).strip()


@dataclass(frozen=True)
class Mail:
    """A message ready for the wire: envelope sender and recipient, and its bytes."""

    sender: str
    recipient: str
    data: bytes


class SmtpSender:
    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings
        name, address = parseaddr(settings.mail_from)
        self._from_address = address
        self._from = formataddr((name, address), charset="utf-8")

    def compose(
        self,
        recipient: str,
        message_id: str,
        subject: str,
        text: str,
        html: str,
        language: str,
        reply_to: str | None = None,
    ) -> MIMEMultipart:
        """The message, before it is made bytes (`mail`)."""
        # The `email` package's older (compat32) classes: the same message as
        # EmailMessage would make, in well under half the time, which counts when
        # hundreds of mails a second leave one process.
        # Header values on one line: a line break (from a name in an event from any
        # producer) would be a header of its own, and the email package refuses such a
        # message outright, so the delivery would fail on every attempt.
        subject, recipient = one_line(subject), one_line(recipient)
        msg = MIMEMultipart("alternative", boundary=_boundary())
        msg["From"] = self._from
        msg["To"] = recipient
        if reply_to:
            # Replies from the enterprise go to its consultant, not the no-reply sender.
            msg["Reply-To"] = one_line(reply_to)
        # A Header (not its text), so the generator folds the encoded words itself.
        msg["Subject"] = subject if subject.isascii() else cast("str", Header(subject, UTF8_HEADER))
        # The same Message-ID on every attempt: a duplicate after a crash between
        # the server's "250 OK" and our bookkeeping can be recognised and dropped.
        msg["Message-ID"] = message_id
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Auto-Submitted"] = "auto-generated"
        msg["Content-Language"] = language
        msg.attach(_text_part(text, "plain"))
        msg.attach(_text_part(html, "html"))
        return msg

    def mail(self, message: MIMEMultipart) -> Mail:
        """`compose`'s message ready for the wire."""
        return Mail(self._from_address, message["To"], message.as_bytes(policy=MAIL_POLICY))

    def connection(self) -> SmtpConnection:
        """A connection for one worker, opened when first used."""
        return SmtpConnection(self._s)


class SmtpConnection:
    """One SMTP connection, reused for message after message by one worker."""

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = 0.0

    async def send(self, mail: Mail) -> None:
        try:
            client = await self._open()
            await client.sendmail(mail.sender, [mail.recipient], mail.data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # The server refused the address and reset the envelope: the connection is fine.
            permanent = all(r.code >= 500 for r in exc.recipients)
            # The reason people see: not the server's text (it names the address).
            code = min(r.code for r in exc.recipients) if exc.recipients else 0
            raise SendFailed(f"recipient refused (SMTP {code})", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self.close()
            # 5xx is the server's final word; 4xx (greylisting, full mailbox) may pass later.
            raise SendFailed(
                f"SMTP {exc.code} from the mail server", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            raise SendFailed("could not connect to the mail server") from exc
        self._last_used = time.monotonic()

    async def _open(self) -> aiosmtplib.SMTP:
        client = self._client
        if client is not None and client.is_connected:
            if time.monotonic() - self._last_used < IDLE_SECONDS:
                return client
            await self.close()
        s = self._s
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            start_tls=s.smtp_starttls,
            use_tls=s.smtp_tls,
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()
        self._client = client
        return client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(body, UTF8_QP)
    return part
