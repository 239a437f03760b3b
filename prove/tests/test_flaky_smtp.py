"""flaky_smtp as the driver runs it: a process on a port, mails in, JSON lines out.

The mails are built and sent by notifications' own SMTP adapter, so the recorded
fields are the ones its mails really carry and a refusal is seen by it as transient.
"""

from __future__ import annotations

import signal
import smtplib
from collections.abc import Callable
from typing import Any

import pytest
from records import mail_summary, read_jsonl

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.smtp import SmtpSender
from indgang_notifications.settings import NotificationSettings

ALWAYS = ("--fail-from", "0", "--fail-until", "100000")


def sender(port: int) -> SmtpSender:
    return SmtpSender(NotificationSettings(smtp_host="127.0.0.1", smtp_port=port))


async def send(
    port: int, n: int = 1, subject: str = "Din henvendelse er modtaget — tak, Åse"
) -> list[str]:
    """Send `n` mails as notifications does; the outcome of each: "sent" or the error."""
    smtp = sender(port)
    connection = smtp.connection()
    outcomes = []
    try:
        for i in range(n):
            mail = smtp.mail(
                smtp.compose(
                    "aase@example.dk",
                    f"<delivery{i:04d}@indgang>",
                    subject,
                    "tekst",
                    "<p>tekst</p>",
                    "da",
                )
            )
            try:
                await connection.send(mail)
                outcomes.append("sent")
            except SendFailed as exc:
                outcomes.append(f"{'permanent' if exc.permanent else 'transient'}: {exc}")
    finally:
        await connection.close()
    return outcomes


async def test_an_accepted_mail_is_one_line_with_its_headers(
    start_tool: Callable[..., Any],
) -> None:
    tool = start_tool("flaky_smtp.py", "--fail-rate", "0")
    assert await send(tool.port) == ["sent"]
    [line] = read_jsonl(tool.out)
    assert line["accepted"] is True
    assert line["code"] == 250
    assert line["message_id"] == "<delivery0000@indgang>"
    assert line["delivery_id"] == "delivery0000"
    assert line["to"] == ["aase@example.dk"]
    assert line["mail_from"] == "en-indgang@kommune.example"
    assert line["from"] == "Én indgang <en-indgang@kommune.example>"
    assert line["subject"] == "Din henvendelse er modtaget — tak, Åse"  # decoded
    assert line["content_language"] == "da"
    assert line["auto_submitted"] == "auto-generated"
    assert line["reply_to"] is None
    assert line["x_headers"] == {}  # notifications sets none today
    for name in ("time", "t", "seq", "size", "failing"):
        assert name in line


async def test_rate_one_refuses_every_mail_with_a_transient_451_and_records_it(
    start_tool: Callable[..., Any],
) -> None:
    tool = start_tool("flaky_smtp.py", "--fail-rate", "1", *ALWAYS)
    outcomes = await send(tool.port, 5)
    assert all(o.startswith("transient: SMTP 451") for o in outcomes), outcomes
    lines = read_jsonl(tool.out)
    assert [line["accepted"] for line in lines] == [False] * 5
    assert {line["code"] for line in lines} == {451}
    summary = mail_summary(lines)
    assert summary.attempts == 5
    assert not summary.accepted
    assert len(summary.never_taken) == 5


async def test_rate_zero_never_refuses(start_tool: Callable[..., Any]) -> None:
    tool = start_tool("flaky_smtp.py", "--fail-rate", "0", *ALWAYS)
    assert await send(tool.port, 20) == ["sent"] * 20
    assert all(line["accepted"] for line in read_jsonl(tool.out))


async def test_a_rate_between_refuses_some(start_tool: Callable[..., Any]) -> None:
    tool = start_tool("flaky_smtp.py", "--fail-rate", "0.5", "--seed", "7", *ALWAYS)
    outcomes = await send(tool.port, 60)
    refused = sum(o != "sent" for o in outcomes)
    assert 15 <= refused <= 45, refused  # seeded: the same count every run
    assert sum(not line["accepted"] for line in read_jsonl(tool.out)) == refused


async def test_outside_the_window_nothing_is_refused_and_sigusr1_toggles(
    start_tool: Callable[..., Any],
) -> None:
    # The default window starts 60 s after start: nothing refused before it.
    tool = start_tool("flaky_smtp.py", "--fail-rate", "1")
    assert await send(tool.port, 2) == ["sent", "sent"]
    assert tool.signal(signal.SIGUSR1) == "failing on"
    assert (await send(tool.port))[0].startswith("transient: SMTP 451")
    assert tool.signal(signal.SIGUSR1) == "failing off"
    assert await send(tool.port) == ["sent"]
    assert [line["accepted"] for line in read_jsonl(tool.out)] == [True, True, False, True]


def test_plain_smtplib_and_several_recipients(start_tool: Callable[..., Any]) -> None:
    tool = start_tool("flaky_smtp.py", "--fail-rate", "1", *ALWAYS)
    with (
        smtplib.SMTP("127.0.0.1", tool.port) as client,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        client.sendmail(
            "a@example.dk",
            ["b@example.dk", "c@example.dk"],
            b"Message-ID: <x@y>\r\nX-Indgang-Kind: receipt\r\nSubject: hi\r\n\r\nbody\r\n",
        )
    assert refused.value.smtp_code == 451
    assert "4.3.0" in str(refused.value.smtp_error)
    [line] = read_jsonl(tool.out)
    assert line["to"] == ["b@example.dk", "c@example.dk"]
    assert line["delivery_id"] is None  # not notifications' Message-ID form
    assert line["x_headers"] == {"X-Indgang-Kind": "receipt"}
