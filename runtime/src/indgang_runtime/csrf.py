"""Cross-site request forgery: one check for every state-changing staff request.

`CsrfMiddleware` (pure ASGI, inside the session middleware) looks at every POST,
PUT, PATCH and DELETE that carries a signed-in staff session — pages' forms and
programs calling an API with the session cookie alike — and lets it through only
when

1. its `Origin` (else its `Referer`) is the service's own origin or one listed in
   `CSRF_TRUSTED_ORIGINS`, if the client sent either (browsers do on every POST;
   a program may send neither, and then the token alone decides), and
2. it carries the session's token (`request.session["csrf"]`): header
   `X-CSRF-Token`, or form field `csrf` (the body is read here and handed on
   unchanged). Programs get the token from `GET /auth/session`.

A request without a signed-in session (the public's forms, department systems
with an API key) is not affected; the sign-in form gets the origin check only
(it starts a new session whatever the old one held).
Sign-out needs no token when a browser's Origin shows it came from the service
itself (a sign-out form without the field still works; a forged one from another
site does not). A refusal is 403: a Danish page for browsers, problem JSON
otherwise.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

import structlog
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "x-csrf-token"
FIELD = "csrf"
SESSION_KEY = "csrf"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_LOGIN = "/auth/login"
_LOGOUT = "/auth/logout"

_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Handlingen blev afvist</title>
<link rel="stylesheet" href="/assets/indgang/indgang.css"></head>
<body><main class="container my-6"><h1>Handlingen blev afvist</h1>
<p>{reason}</p>
<p>Gå tilbage, genindlæs siden og prøv igen. Sker det igen, så log ud og ind igen.</p>
</main></body></html>"""
_REASONS = {
    "origin": (
        "Formularen kom fra en anden hjemmeside end denne.",
        "The request came from another origin than this service (Origin/Referer).",
    ),
    "token": (
        "Siden er for gammel, eller formularen manglede sikkerhedskoden.",
        "The CSRF token is missing or wrong: send the session's token in the "
        "X-CSRF-Token header or the csrf form field (GET /auth/session).",
    ),
}


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origin(scope: Scope) -> str:
    headers = Headers(scope=scope)
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}".lower()


def same_origin(scope: Scope, trusted: frozenset[str]) -> bool | None:
    """True/False by Origin (else Referer); None when the client sent neither."""
    headers = Headers(scope=scope)
    sent = headers.get("origin")
    if sent is None or sent == "null":
        referer = headers.get("referer")
        if referer is None and sent is None:
            return None
        sent = referer or ""
    origin = origin_of(sent)
    return origin is not None and (origin == own_origin(scope) or origin in trusted)


def refusal(scope: Scope, reason: str) -> Response:
    danish, english = _REASONS[reason]
    if "text/html" in Headers(scope=scope).get("accept", ""):
        return HTMLResponse(_PAGE.format(reason=danish), status_code=403)
    body = {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": f"CSRF check failed: {english}",
    }
    return JSONResponse(body, status_code=403, media_type="application/problem+json")


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = frozenset(o.strip().rstrip("/").lower() for o in trusted_origins if o)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        session = scope.get("session") or {}
        signed_in = bool(session.get("user"))
        if not signed_in and path != _LOGIN:
            await self.app(scope, receive, send)
            return
        origin = same_origin(scope, self.trusted)
        if origin is False:
            await self._refuse(scope, receive, send, "origin")
            return
        # Sign-in replaces the session whatever it held: the origin check is enough.
        if not signed_in or path == _LOGIN or (path == _LOGOUT and origin is True):
            await self.app(scope, receive, send)
            return
        expected = str(session.get(SESSION_KEY) or "")
        sent = Headers(scope=scope).get(HEADER)
        body: list[Message] | None = None
        if sent is None and _is_form(scope):
            sent, body = await _form_token(scope, receive)
        if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            await self._refuse(scope, receive, send, "token")
            return
        await self.app(scope, _replay(body, receive) if body is not None else receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, reason: str) -> None:
        log.warning("csrf_refused", path=scope["path"], method=scope["method"], reason=reason)
        await refusal(scope, reason)(scope, receive, send)


def _is_form(scope: Scope) -> bool:
    content_type = Headers(scope=scope).get("content-type", "")
    return content_type.split(";")[0].strip().lower() in _FORMS


async def _form_token(scope: Scope, receive: Receive) -> tuple[str | None, list[Message]]:
    """The form's `csrf` field, and the body's messages to hand on to the app."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    form = await Request(scope, _replay(messages, receive)).form()
    try:
        value = form.get(FIELD)
        return (value if isinstance(value, str) else None), messages
    finally:
        await form.close()


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
