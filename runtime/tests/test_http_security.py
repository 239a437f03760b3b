"""Issue 12, finding 10: security headers on every response of every service, and
/metrics and the API documentation not public in production."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from indgang_runtime.http_security import PAGE_POLICY, install_http_security
from indgang_runtime.service import Runtime, build_app
from indgang_runtime.settings import ServiceSettings

TOKEN = "x" * 40


def settings(**overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": "t",
        "mongodb_database": "t",
        "http_port": 1,
        "environment": "development",
        **overrides,
    }
    return ServiceSettings(**values)


class LateMiddleware:
    """Like intake's body-size limit: added after `build_app`, answers on its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/too-large":
            await JSONResponse({"detail": "too large"}, status_code=413)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def app_with(config: ServiceSettings) -> FastAPI:
    app = FastAPI()
    install_http_security(app, config)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response("python_info 1\n", media_type="text/plain")

    @app.get("/sager/x", response_class=HTMLResponse)
    async def staff_page() -> str:
        return "<html><body>sag</body></html>"

    @app.get("/cached")
    async def cached() -> Response:
        return Response("ok", headers={"Cache-Control": "max-age=60"})

    @app.get("/assets/indgang/x.css")
    async def asset() -> Response:
        return Response("body{}", media_type="text/css")

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("boom")

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404)

    app.add_middleware(LateMiddleware)
    return app


async def get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
        return await client.get(path, headers=headers)


@pytest.mark.parametrize("path", ["/sager/x", "/metrics", "/missing", "/fails", "/too-large"])
async def test_every_response_carries_the_headers(path: str) -> None:
    response = await get(app_with(settings()), path)
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # development: plain HTTP


def test_the_page_policy_allows_no_inline_script_or_framing() -> None:
    directives = dict(d.split(" ", 1) for d in PAGE_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in PAGE_POLICY


async def test_hsts_in_production_only() -> None:
    production = settings(environment="production")
    response = await get(app_with(production), "/sager/x")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_assets_may_be_cached_and_a_route_may_choose_its_own_caching() -> None:
    app = app_with(settings())
    asset = await get(app, "/assets/indgang/x.css")
    assert "cache-control" not in asset.headers
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert (await get(app, "/cached")).headers["cache-control"] == "max-age=60"


async def test_operations_are_open_in_development() -> None:
    app = app_with(settings())
    assert (await get(app, "/metrics")).status_code == 200
    assert (await get(app, "/openapi.json")).status_code == 200
    assert (await get(app, "/docs")).status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json"])
async def test_operations_are_not_public_in_production(path: str) -> None:
    app = app_with(settings(environment="production"))
    response = await get(app, path)
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert (await get(app, "/sager/x")).status_code == 200  # the rest is served


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_with_a_token_operations_need_it(environment: str) -> None:
    app = app_with(settings(environment=environment, operations_token=TOKEN))
    assert (await get(app, "/metrics")).status_code == 401
    wrong = await get(app, "/metrics", authorization="Bearer " + "y" * 40)
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    right = await get(app, "/metrics", authorization=f"Bearer {TOKEN}")
    assert right.status_code == 200
    assert "python_info" in right.text
    docs = await get(app, "/openapi.json", authorization=f"Bearer {TOKEN}")
    assert docs.status_code == 200


async def test_the_docs_page_allows_its_cdn_and_exactly_its_own_inline_script() -> None:
    response = await get(app_with(settings()), "/docs")
    (script,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in policy
    assert "https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_production_refuses_a_public_or_short_operations_token() -> None:
    for value in ("dev-metrics", "short"):
        problems = settings(operations_token=value).production_problems()
        assert any("OPERATIONS_TOKEN" in p for p in problems)
    assert not any(
        "OPERATIONS_TOKEN" in p for p in settings(operations_token=TOKEN).production_problems()
    )


async def test_build_app_installs_them_for_every_service(request: pytest.FixtureRequest) -> None:
    rt = Runtime(settings(), None, None, None)  # type: ignore[arg-type]
    app = build_app(rt, title="t", description="t")

    @app.get("/echo")
    async def echo(request: Request) -> str:
        return "hej"

    response = await get(app, "/health/live")
    assert response.json() == {"status": "live"}
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["cache-control"] == "no-store"
    assert (await get(app, "/echo")).headers["x-frame-options"] == "DENY"
