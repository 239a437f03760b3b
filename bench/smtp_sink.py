"""The bench's own SMTP server: accepts every message, keeps none, prints one line each.

Run as its own process (`python bench/smtp_sink.py PORT`) so that neither Mailpit
(which stores and indexes every mail) nor the bench's event loop limits how fast
notifications can hand mails over. It prints `ready` once listening, then `mail N`
per message with N recipients; the bench counts those lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Any

import uvloop
from aiosmtpd.controller import Controller


class Discard:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # A bench run with --keep exits and closes our stdout; the mail is still accepted.
        with contextlib.suppress(OSError):
            print(f"mail {len(envelope.rcpt_tos)}", flush=True)
        return "250 OK"


def main(port: int) -> None:
    # uvloop for the server's own loop (a thread of the controller's): the sink shares
    # the two cores with what it measures.
    controller = Controller(
        Discard(), hostname="127.0.0.1", port=port, loop=uvloop.new_event_loop()
    )
    controller.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        loop.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
