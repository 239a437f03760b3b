"""A webhook receiver for `make prove` that records every request and fails some of them.

    uv run --frozen python prove/flaky_webhook.py PORT OUT.jsonl --secret S
        [--fail-rate 0.3] [--slow-rate 0.05] [--slow-seconds T] [--seed N] [--no-fsync]

Takes a POST on any path, as notifications sends it (services/notifications/README.md,
"Webhooks"): the CloudEvent in structured mode, `X-Indgang-Signature: t=..,v1=..`
(HMAC-SHA256 of "<t>.<raw body>" with the subscription's secret, 300 s window) and
`X-Indgang-Delivery: <delivery id>` (the same on every attempt). Each request gets
one of, drawn at random:

- `--slow-rate` (0.05): sleeps `--slow-seconds` (default: notifications'
  WEBHOOK_TIMEOUT_SECONDS, from the environment or its default of 10, plus 2 s),
  longer than the sender waits, then answers 204 to nobody — the sender counts a
  timeout and retries, although this side "stored" the event: a legitimate
  duplicate, to be de-duplicated on the event id;
- `--fail-rate` (0.3): 500 at once (the sender retries);
- otherwise 204.

A request whose signature does not verify gets 401 whatever was drawn (the sender
gives that delivery up: a 4xx is permanent), so a wrong `--secret` shows at once.
SIGUSR1 flips the injection of failures and slow answers off and on again
(announced on stdout as `failing off` / `failing on`).

Every request is one JSON line in OUT.jsonl, written when it is answered (for a
slow one: after the sleep, with `slow: true`), flushed and fsynced. Prints `ready`
once listening; SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from records import JsonLines
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# notifications' default WEBHOOK_TIMEOUT_SECONDS (NotificationSettings.webhook_timeout_seconds).
DEFAULT_WEBHOOK_TIMEOUT = 10.0
REPLAY_WINDOW_SECONDS = 300


def webhook_timeout() -> float:
    """The sender's timeout: WEBHOOK_TIMEOUT_SECONDS if set, else notifications' default."""
    value = os.environ.get("WEBHOOK_TIMEOUT_SECONDS")
    if value:
        with contextlib.suppress(ValueError):
            return float(value)
    try:
        from indgang_notifications.settings import NotificationSettings

        default = NotificationSettings.model_fields["webhook_timeout_seconds"].default
        return float(default)
    except Exception:  # the tool must run without the service package too
        return DEFAULT_WEBHOOK_TIMEOUT


def verify_signature(header: str, body: bytes, secret: str, now: float) -> bool:
    """As services/notifications/README.md documents it (several v1 values allowed)."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > REPLAY_WINDOW_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    digest = expected.hexdigest()
    return any(hmac.compare_digest(digest, given) for given in parts.get("v1", []))


class Receiver:
    def __init__(self, args: argparse.Namespace, out: JsonLines) -> None:
        self.secret: str = args.secret
        self.fail_rate: float = args.fail_rate
        self.slow_rate: float = args.slow_rate
        self.slow_seconds: float = (
            args.slow_seconds if args.slow_seconds is not None else webhook_timeout() + 2.0
        )
        self.injecting = True
        self.out = out
        self.started = time.monotonic()
        self.seq = 0
        self._random = random.Random(args.seed)

    def toggle(self) -> bool:
        self.injecting = not self.injecting
        return self.injecting

    def draw(self) -> str:
        if not self.injecting:
            return "ok"
        roll = self._random.random()
        if roll < self.slow_rate:
            return "slow"
        if roll < self.slow_rate + self.fail_rate:
            return "fail"
        return "ok"

    async def hook(self, request: Request) -> Response:
        received = datetime.now(UTC)
        t = time.monotonic() - self.started
        self.seq += 1
        seq = self.seq
        body = await request.body()
        signature = request.headers.get("x-indgang-signature", "")
        valid = verify_signature(signature, body, self.secret, time.time())
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            event = {}
        outcome = self.draw() if valid else "bad_signature"
        status = {"ok": 204, "slow": 204, "fail": 500, "bad_signature": 401}[outcome]
        if outcome == "slow":
            await asyncio.sleep(self.slow_seconds)
        self.out.write(
            {
                "seq": seq,
                "time": received.isoformat(),
                "t": round(t, 3),
                "answered_at": datetime.now(UTC).isoformat(),
                "method": request.method,
                "path": request.url.path,
                "delivery_id": request.headers.get("x-indgang-delivery"),
                "event_id": event.get("id"),
                "event_type": event.get("type"),
                "subject": event.get("subject"),
                "source": event.get("source"),
                "content_type": request.headers.get("content-type"),
                "signature_ok": valid,
                "outcome": outcome,
                "slow": outcome == "slow",
                "status": status,
                "size": len(body),
            }
        )
        return Response(status_code=status)


def build_app(receiver: Receiver) -> Starlette:
    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[
            Route("/health/ready", ready, methods=["GET"]),
            Route("/{path:path}", receiver.hook, methods=["POST", "PUT"]),
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("out", type=Path, help="JSON lines file (appended to)")
    parser.add_argument("--secret", required=True, help="the subscription's secret")
    parser.add_argument("--fail-rate", type=float, default=0.3, help="share answered 500")
    parser.add_argument("--slow-rate", type=float, default=0.05, help="share answered too late")
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=None,
        help="how long a slow answer takes (default: WEBHOOK_TIMEOUT_SECONDS + 2)",
    )
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable sequence")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-fsync", action="store_true", help="flush only, no fsync per line")
    args = parser.parse_args(argv)
    for name in ("fail_rate", "slow_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            parser.error(f"--{name.replace('_', '-')} must be within 0..1")
    if args.fail_rate + args.slow_rate > 1.0:
        parser.error("--fail-rate + --slow-rate must not exceed 1")
    return args


async def serve(args: argparse.Namespace) -> None:
    out = JsonLines(args.out, fsync=not args.no_fsync)
    receiver = Receiver(args, out)
    config = uvicorn.Config(
        build_app(receiver),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # Slow answers in flight must not hold up a stop for long.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    def toggle() -> None:
        state = receiver.toggle()
        with contextlib.suppress(OSError):
            print(f"failing {'on' if state else 'off'}", flush=True)

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, toggle)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                await task  # raises what stopped it (e.g. the port is taken)
                raise SystemExit(f"could not listen on {args.host}:{args.port}")
            await asyncio.sleep(0.02)
        print("ready", flush=True)
        await task
    finally:
        out.close()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
