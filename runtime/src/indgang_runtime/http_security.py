"""Security headers on every HTTP response of every service, and what is not public.

`install_http_security` (called by `service.build_app`) wraps the app's whole
middleware stack when Starlette builds it, so the headers are on every response:
pages, APIs, assets, redirects, the 413 of a size limit a service adds later,
and the 500 page.

- `Content-Security-Policy`: scripts, styles, fonts and images only from the
  service itself; no inline script and no inline style (the templates have none:
  the design system's script is a file, and every style is in a stylesheet, so
  an injected `style=` or `<style>` cannot restyle a page into a phishing form
  either); no framing (`frame-ancestors 'none'`, and `X-Frame-Options` for old
  browsers); forms post only to the service.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (a case URL
  never leaves in a Referer), `Cross-Origin-Opener-Policy: same-origin`.
- `Strict-Transport-Security` in production only (development is plain HTTP).
- `Cache-Control: no-store` on every response but the static assets: staff pages
  and APIs, and public pages too, which echo what an inquirer typed (the form
  with its errors, the receipt); nothing with personal data stays in a browser's
  or a proxy's cache. A route that sets its own Cache-Control keeps it.

Operations (`/metrics`) and the API documentation (`/docs`, `/redoc`,
`/openapi.json`) are open in development (`make up`, bench, prove and the tests
read them) and not public in production: with `OPERATIONS_TOKEN` set they need
`Authorization: Bearer <token>` (Prometheus: `authorization.credentials_file`),
without it they answer 404. The documentation pages load Swagger UI and ReDoc from
their CDN with an inline start-up script: they alone get a policy that allows the
CDN and exactly that script (its hash), and they are never public in production.

Also here: the key with which routing reads the guide's internal entries server to
server (`guide_reader_key`), which the guide otherwise serves only to staff sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indgang_runtime.problems import problem_response
from indgang_runtime.settings import ServiceSettings

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Swagger UI and ReDoc as FastAPI serves them (fastapi.openapi.docs).
_DOCS_CDN = "https://cdn.jsdelivr.net"
_DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' {_DOCS_CDN} {{scripts}}",
        # Both inject styles at run time; these pages hold no personal data.
        f"style-src 'self' {_DOCS_CDN} https://fonts.googleapis.com 'unsafe-inline'",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
STATIC_PREFIX = "/assets/"

_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def operations_paths(app: FastAPI) -> frozenset[str]:
    """Metrics and the API documentation's routes, as this app serves them."""
    paths = {"/metrics", app.openapi_url, app.docs_url, app.redoc_url}
    if app.docs_url and app.swagger_ui_oauth2_redirect_url:
        paths.add(app.swagger_ui_oauth2_redirect_url)
    return frozenset(p for p in paths if p)


def presented_token(headers: Headers) -> str | None:
    """The bearer token of `Authorization`, if any."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_matches(presented: str | None, expected: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


def script_hashes(html: bytes) -> str:
    """CSP sources for exactly the inline scripts in `html`."""
    digests = (hashlib.sha256(body).digest() for body in _INLINE_SCRIPT.findall(html))
    return " ".join(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests)


class SecureResponses:
    """The ASGI wrapper: the gate in front of operations, the headers on every response."""

    def __init__(
        self, app: ASGIApp, settings: ServiceSettings, gated: Iterable[str], docs: Iterable[str]
    ) -> None:
        self.app = app
        self.settings = settings
        self.gated = frozenset(gated)
        self.docs = frozenset(docs)  # HTML pages with the documentation's policy
        self.hsts = settings.environment == "production"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add_headers(MutableHeaders(scope=message), path)
            await send(message)

        refused = self._refusal(scope) if path in self.gated else None
        if refused is not None:
            await refused(scope, receive, send_secured)
        elif path in self.docs:
            await self.app(scope, receive, _with_script_hashes(send_secured))
        else:
            await self.app(scope, receive, send_secured)

    def _refusal(self, scope: Scope) -> JSONResponse | None:
        token = self.settings.operations_token
        if token:
            if token_matches(presented_token(Headers(scope=scope)), token):
                return None
            return problem_response(
                scope, 401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"}
            )
        if self.settings.environment == "development":
            return None
        return problem_response(scope, 404, "Not Found")

    def _add_headers(self, headers: MutableHeaders, path: str) -> None:
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        for name, value in _ALWAYS:
            headers[name] = value
        if self.hsts:
            headers["Strict-Transport-Security"] = HSTS
        if not path.startswith(STATIC_PREFIX):
            headers.setdefault("Cache-Control", "no-store")


def _with_script_hashes(send: Send) -> Send:
    """`send` for a documentation page: the whole (small) body is read first, so its
    policy can allow exactly its inline scripts by hash."""
    start: Message | None = None
    body: list[bytes] = []

    async def send_page(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        html = b"".join(body)
        headers = MutableHeaders(scope=start)
        headers["Content-Security-Policy"] = _DOCS_POLICY.format(scripts=script_hashes(html))
        await send(start)
        await send({"type": "http.response.body", "body": html})

    return send_page


def install_http_security(app: FastAPI, settings: ServiceSettings) -> None:
    """Wrap the app's whole middleware stack (built by Starlette at the first request, so
    middleware a service adds after `build_app` is inside it too) in `SecureResponses`."""
    build_stack = app.build_middleware_stack

    def build_secured_stack() -> ASGIApp:
        docs = {p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p}
        return SecureResponses(build_stack(), settings, operations_paths(app), docs)

    # An instance attribute, not a subclass: every service builds a plain FastAPI.
    app.build_middleware_stack = build_secured_stack  # type: ignore[method-assign]


# Routing reads the guide's internal entries server to server with this key (settings
# `guide_reader_key`); public like the other development secrets, refused in production.
DEVELOPMENT_GUIDE_READER_KEY = "dev-guide-reader-key"


def guide_reader_key(settings: ServiceSettings) -> str | None:
    """The key routing sends and the guide accepts: GUIDE_READER_KEY, else the public
    development key in development, else none (the guide then serves routing only what
    it serves the public)."""
    if settings.guide_reader_key:
        return settings.guide_reader_key
    return DEVELOPMENT_GUIDE_READER_KEY if settings.environment == "development" else None
