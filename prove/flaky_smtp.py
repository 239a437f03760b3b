"""An SMTP server for `make prove` that records every mail and refuses some, for a while.

    uv run --frozen python prove/flaky_smtp.py PORT OUT.jsonl
        [--fail-rate 0.2] [--fail-from 60] [--fail-until 240] [--seed N] [--no-fsync]

Every message that reaches DATA is written to OUT.jsonl as one JSON line, refused
or not (`"accepted": false` for a refusal), flushed and fsynced before the answer
goes out, so a reader sees it at once and a line is never missing for a mail the
sender was told "250". Between `--fail-from` and `--fail-until` seconds after start
a `--fail-rate` share of messages is refused with `451 4.3.0` (transient: the
notifications service retries later with the same Message-ID). SIGUSR1 flips
failing on or off from then on (the window no longer applies after the first
SIGUSR1); each change is announced on stdout as `failing on` / `failing off`.
Prints `ready` once listening; SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import random
import re
import signal
import threading
import time
from datetime import UTC, datetime
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from records import JsonLines

REFUSAL = "451 4.3.0 Temporary failure injected by prove/flaky_smtp.py, try again later"
# notifications' Message-ID is `<delivery id>@indgang` (domain/messages.py).
_DELIVERY_ID = re.compile(r"^<([^@>]+)@indgang>$")


class FailureSwitch:
    """Whether refusals are being injected now: a time window, until SIGUSR1 takes over."""

    def __init__(self, rate: float, fail_from: float, fail_until: float, seed: int | None) -> None:
        self.rate = rate
        self.fail_from = fail_from
        self.fail_until = fail_until
        self.started = time.monotonic()
        self.manual: bool | None = None  # set by the first toggle; then the window is ignored
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def active(self) -> bool:
        if self.manual is not None:
            return self.manual
        return self.fail_from <= self.elapsed() < self.fail_until

    def toggle(self) -> bool:
        self.manual = not self.active()
        return self.manual

    def refuse(self) -> tuple[bool, bool]:
        """(failing now, refuse this one)."""
        with self._lock:
            active = self.active()
            return active, active and self._random.random() < self.rate


def _text(value: Any) -> str | None:
    """A header's value, RFC 2047 encoded words decoded."""
    if value is None:
        return None
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError):
        return str(value)


def describe(content: bytes) -> dict[str, Any]:
    """The fields recorded from a message's headers."""
    message = email.message_from_bytes(content, policy=email.policy.compat32)
    message_id = (_text(message["Message-ID"]) or "").strip() or None
    match = _DELIVERY_ID.match(message_id or "")
    return {
        "message_id": message_id,
        "delivery_id": match.group(1) if match else None,
        "from": _text(message["From"]),
        "to_header": _text(message["To"]),
        "reply_to": _text(message["Reply-To"]),
        "subject": _text(message["Subject"]),
        "date": _text(message["Date"]),
        "content_language": _text(message["Content-Language"]),
        "auto_submitted": _text(message["Auto-Submitted"]),
        # Every X- header, as sent (none at the time of writing: notifications names the
        # delivery only in the Message-ID).
        "x_headers": {
            name: _text(value) for name, value in message.items() if name.lower().startswith("x-")
        },
    }


class Recorder:
    """aiosmtpd handler: decides at DATA, records, then answers."""

    def __init__(self, switch: FailureSwitch, out: JsonLines) -> None:
        self.switch = switch
        self.out = out
        self.seq = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content or b""
        failing, refused = self.switch.refuse()
        with self._lock:
            self.seq += 1
            seq = self.seq
        record: dict[str, Any] = {
            "seq": seq,
            "time": datetime.now(UTC).isoformat(),
            "t": round(self.switch.elapsed(), 3),
            "accepted": not refused,
            "code": 451 if refused else 250,
            "failing": failing,
            "mail_from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "size": len(content),
            "peer": f"{session.peer[0]}:{session.peer[1]}" if session.peer else None,
        }
        try:
            record.update(describe(content))
        except Exception as exc:  # a malformed mail is still recorded
            record["parse_error"] = f"{type(exc).__name__}: {exc}"
        self.out.write(record)
        return REFUSAL if refused else "250 OK"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("out", type=Path, help="JSON lines file (appended to)")
    parser.add_argument("--fail-rate", type=float, default=0.2, help="share refused (0..1)")
    parser.add_argument("--fail-from", type=float, default=60.0, help="seconds after start")
    parser.add_argument("--fail-until", type=float, default=240.0, help="seconds after start")
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable sequence")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-fsync", action="store_true", help="flush only, no fsync per line")
    args = parser.parse_args(argv)
    if not 0.0 <= args.fail_rate <= 1.0:
        parser.error("--fail-rate must be within 0..1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    switch = FailureSwitch(args.fail_rate, args.fail_from, args.fail_until, args.seed)
    out = JsonLines(args.out, fsync=not args.no_fsync)
    controller = Controller(
        Recorder(switch, out),
        hostname=args.host,
        port=args.port,
        enable_SMTPUTF8=True,
    )
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def toggle() -> None:
        state = switch.toggle()
        with contextlib.suppress(OSError):
            print(f"failing {'on' if state else 'off'}", flush=True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, toggle)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        out.close()
        loop.close()


if __name__ == "__main__":
    main()
