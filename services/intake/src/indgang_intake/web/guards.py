"""Abuse guards: per-client rate limits and a request body size limit.

No third-party service is involved: no CAPTCHA, no tracking. The honeypot
field lives with the form (`web/forms.py`, checked in `web/public_form.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from prometheus_client import Counter
from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REFUSED = Counter(
    "indgang_intake_requests_refused_total", "Requests refused by an abuse guard", ["reason"]
)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds, when not allowed


class RateLimits:
    """Sliding-window limits in memory (per instance), one counter pair per client.

    Public clients (web form and public API together) are counted per client
    IP — behind a reverse proxy, uvicorn takes it from X-Forwarded-For when the
    proxy is trusted (FORWARDED_ALLOW_IPS). Department systems per API key.

    The limits are written as `limits` strings ("30/minute", parsed by that
    library), but counted here: its in-memory async storage expires every
    client's events on each request, one thread hop per client (measured at a
    fifth of intake's CPU under load, and growing with the number of clients).
    This counter costs O(1) per request: the current and the previous window's
    counts, the previous one weighted by how much of it the sliding window still
    covers (Cloudflare's "sliding window counter"); memory holds the clients
    seen in the last two windows.
    """

    def __init__(
        self, public: str, department: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._items: dict[str, RateLimitItem] = {
            "public": parse(public),
            "department": parse(department),
        }
        self._clock = clock
        # bucket -> (window number, counts in it, counts in the window before)
        self._windows: dict[str, tuple[int, dict[str, int], dict[str, int]]] = {}

    async def hit(self, bucket: str, client: str) -> Verdict:
        item = self._items[bucket]
        length = item.get_expiry()
        now = self._clock()
        window = int(now // length)
        number, current, previous = self._windows.get(bucket, (window, {}, {}))
        if window != number:
            # Roll over: what was current is the previous window only if adjacent.
            previous = current if window == number + 1 else {}
            current = {}
        self._windows[bucket] = (window, current, previous)
        covered = 1 - (now - window * length) / length  # share of the previous window
        estimate = current.get(client, 0) + previous.get(client, 0) * covered
        if estimate + 1 > item.amount:
            REFUSED.labels("rate_limit").inc()
            return Verdict(False, max(1, math.ceil((window + 1) * length - now)))
        current[client] = current.get(client, 0) + 1
        return Verdict(True, 0)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class BodyTooLarge(HTTPException):
    """The request body is larger than allowed.

    An HTTPException, so that FastAPI's body parsing passes it on unchanged and
    the app's handler for it answers 413."""

    def __init__(self) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, "Content Too Large")


Render = Callable[[Scope], Response]


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over `max_bytes`.

    A declared Content-Length over the limit is refused before anything is
    read; a body without one (chunked) is counted as it streams in and refused
    as soon as it passes the limit. `render` builds the 413 answer (a page for
    browsers, JSON for API clients).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, render: Render) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            REFUSED.labels("body_too_large").inc()
            await self.render(scope)(scope, receive, send)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            REFUSED.labels("body_too_large").inc()
            await self.render(scope)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def wants_html(scope: Scope) -> bool:
    """Browsers (Accept: text/html) get pages; API clients get JSON."""
    for name, value in scope.get("headers", []):
        if name == b"accept":
            return b"text/html" in value
    return False
