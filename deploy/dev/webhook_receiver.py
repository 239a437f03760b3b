"""A department system's webhook endpoint, for `make up`: verifies and shows what it gets.

It stands in for e.g. the job centre's case system. Every POST to
/hooks/<name> must carry a valid `X-Indgang-Signature` (HMAC-SHA256 over
"<timestamp>.<raw body>" with the subscription's secret, within 300 s);
valid events are listed at http://127.0.0.1:8090/ and /events (JSON).
Invalid signatures get 401 and are listed as rejected.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import time
from collections import deque
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

SECRET = os.environ.get("WEBHOOK_SECRET", "dev-webhook-secret-jobcenter")
received: deque[dict[str, Any]] = deque(maxlen=200)


def verify_indgang_signature(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """As documented in services/notifications/README.md."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


async def hook(request: Request) -> Response:
    body = await request.body()
    valid = verify_indgang_signature(request.headers.get("x-indgang-signature", ""), body, SECRET)
    try:
        event = json.loads(body)
    except ValueError:
        event = {}
    received.appendleft(
        {
            "hook": request.path_params["name"],
            "signature_valid": valid,
            "type": event.get("type"),
            "id": event.get("id"),
            "subject": event.get("subject"),
            "received_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "data": event.get("data"),
        }
    )
    return Response(status_code=204 if valid else 401)


async def events(request: Request) -> JSONResponse:
    return JSONResponse(list(received))


async def index(request: Request) -> HTMLResponse:
    rows = "".join(
        f"<tr><td>{html.escape(e['received_at'])}</td><td>{html.escape(e['hook'])}</td>"
        f"<td>{html.escape(str(e['type']))}</td><td>{html.escape(str(e['subject']))}</td>"
        f"<td>{'gyldig' if e['signature_valid'] else 'AFVIST'}</td></tr>"
        for e in received
    )
    return HTMLResponse(
        '<!doctype html><html lang="da"><head><meta charset="utf-8">'
        "<title>Webhook-modtager (udvikling)</title></head><body><main>"
        "<h1>Webhook-modtager (udvikling)</h1><p>Hændelser modtaget fra notifications.</p>"
        "<table><thead><tr><th>Tid</th><th>Hook</th><th>Type</th><th>Emne</th>"
        f"<th>Signatur</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"
    )


app = Starlette(
    routes=[
        Route("/", index),
        Route("/events", events),
        Route("/health/ready", lambda request: JSONResponse({"status": "ready"})),
        Route("/hooks/{name}", hook, methods=["POST"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("WEBHOOK_PORT", "8090")))
