"""The abuse guards on their own: the body size limit (ASGI) and the rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Scope

from indgang_intake.web.guards import BodySizeLimit, BodyTooLarge, RateLimits


def build(limit: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    def render(scope: Scope) -> Response:
        return JSONResponse({"detail": "too large"}, status_code=413)

    async def on_too_large(request: Request, exc: Exception) -> Response:
        return render(request.scope)

    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_middleware(BodySizeLimit, max_bytes=limit, render=render)
    return app


async def chunks(size: int, chunk: int = 1000) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        part = min(chunk, size - sent)
        sent += part
        yield b"x" * part


async def test_body_limit_by_content_length_and_by_stream() -> None:
    transport = httpx.ASGITransport(app=build(4096))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", content=b"x" * 4096)).text == "4096"
        declared = await client.post("/echo", content=b"x" * 4097)
        assert declared.status_code == 413
        # No Content-Length (chunked): counted as it streams in.
        streamed = await client.post("/echo", content=chunks(10_000))
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413
        assert (await client.post("/echo", content=chunks(3000))).text == "3000"


async def test_moving_window_per_client_with_retry_after() -> None:
    limits = RateLimits("3/minute", "5/minute")
    for _ in range(3):
        assert (await limits.hit("public", "10.0.0.1")).allowed
    refused = await limits.hit("public", "10.0.0.1")
    assert not refused.allowed
    assert 1 <= refused.retry_after <= 60
    # Another client and the department bucket are counted apart.
    assert (await limits.hit("public", "10.0.0.2")).allowed
    assert (await limits.hit("department", "10.0.0.1")).allowed


async def test_the_window_slides_and_forgets() -> None:
    now = [1000.0 * 60]  # the start of a minute
    limits = RateLimits("2/minute", "5/minute", clock=lambda: now[0])
    assert (await limits.hit("public", "a")).allowed
    assert (await limits.hit("public", "a")).allowed
    assert not (await limits.hit("public", "a")).allowed
    now[0] += 60 + 30  # half way into the next minute: half of the last one still counts
    assert (await limits.hit("public", "a")).allowed  # 2 * 0.5 + 1 = 2
    assert not (await limits.hit("public", "a")).allowed
    now[0] += 120  # two minutes on: nothing of before counts
    assert (await limits.hit("public", "a")).allowed
    assert (await limits.hit("public", "a")).allowed


async def test_many_clients_are_each_counted_on_their_own() -> None:
    limits = RateLimits("1/minute", "5/minute")
    clients = [f"10.1.{n // 250}.{n % 250}" for n in range(5000)]
    assert all([(await limits.hit("public", c)).allowed for c in clients])
    assert not any([(await limits.hit("public", c)).allowed for c in clients[:100]])
