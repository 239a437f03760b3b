"""What the delivery tests share: the receiver an integrator writes (as the README tells
them), the notifications process and its configuration, and small helpers.

The fixtures that start these are in conftest.py; with `--import-mode=importlib` the
test modules import this module by name (conftest.py puts this directory on sys.path).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import Event
from indgang_contracts.examples import INQUIRY_RECEIVED

from harness import (
    KAFKA_BOOTSTRAP,
    ServiceProcess,
    SmtpServer,
    eventually,
    free_port,
    produce,
    service_env,
)

E = TypeVar("E", bound=Event)
ADMIN_KEY = "test-admin-key-0123456789"
JOBCENTER_SECRET = "jobcenter-secret-0123456789"


# --- the receiver's side, as the README tells an integrator to write it --------------


def verify_signature(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """Verify X-Indgang-Signature: t=<unix ts>,v1=<hex HMAC-SHA256 of '<ts>.<body>'>."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old or from the future: a replay
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    valid: bool
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class WebhookReceiver:
    """A real HTTP server (uvicorn + Starlette) that checks each request's signature."""

    secrets: dict[str, str]
    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    # Statuses to answer next, per path; then 200 (or 401 for a bad signature).
    planned: dict[str, list[int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        valid = verify_signature(
            request.headers.get("x-indgang-signature", ""), body, self.secrets.get(path, "")
        )
        status = 401 if not valid else (self.planned.get(path) or [200]).pop(0)
        self.requests.append(Received(path, dict(request.headers), body, valid, status))
        return Response(status_code=status)

    def accepted(self, event_id: str) -> list[Received]:
        return [r for r in self.requests if r.status == 200 and r.event["id"] == event_id]

    def for_event(self, event_id: str) -> list[Received]:
        return [r for r in self.requests if r.event["id"] == event_id]


# --- the notifications process ---------------------------------------------------------


@dataclass
class Notifications:
    run_id: str
    process: ServiceProcess
    mail: SmtpServer
    receiver: WebhookReceiver

    def topic(self, name: str) -> str:
        return f"test-{self.run_id}.{name}"

    async def send(self, event: Event, event_id: str | None = None, times: int = 1) -> Record:
        record = encode(event, source="/test/notifications", event_id=event_id)
        headers = [(k, v.encode()) for k, v in record.headers.items()]
        for _ in range(times):
            await produce(
                KAFKA_BOOTSTRAP,
                self.topic(record.topic),
                record.value,
                record.key.encode(),
                headers,
            )
        return record

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.process.url, headers={"X-Admin-Key": ADMIN_KEY}, timeout=10
        )

    async def deliveries(self, query: str) -> list[dict[str, Any]]:
        async with self.api() as api:
            response = await api.get("/api/v1/deliveries", params={"q": query})
            assert response.status_code == 200, response.text
            return list(response.json())


def write_config(directory: Path, receiver: WebhookReceiver) -> dict[str, str]:
    departments = directory / "departments.toml"
    # No outside_provider: a referral to one cannot be addressed (→ dead letter).
    departments.write_text(
        '[departments.job_centre]\nname = "Jobcentret"\nemail = "jobcenter@kommune.example"\n'
        '[departments.business_service]\nname = "Business Service"\n'
        'email = "erhverv@kommune.example"\nlanguage = "en"\n'
    )
    subscriptions = directory / "subscriptions.toml"
    subscriptions.write_text(
        "[[subscription]]\n"
        'id = "jobcenter-system"\n'
        'name = "Jobcentrets fagsystem"\n'
        'event_types = ["referral-made"]\n'
        'channel = "webhook"\n'
        f'url = "{receiver.url}/jobcenter"\n'
        f'secret = "{JOBCENTER_SECRET}"\n'
        'filters = [{ field = "target.department", values = ["job_centre"] }]\n'
    )
    return {"DEPARTMENTS_FILE": str(departments), "SUBSCRIPTIONS_FILE": str(subscriptions)}


def notifications_env(run_id: str, smtp_port: int, config: dict[str, str]) -> dict[str, str]:
    return {
        **service_env(run_id, "notifications", KAFKA_BOOTSTRAP, smtp_port),
        **config,
        "RETRY_BASE_SECONDS": "0.2",
        "RETRY_MAX_SECONDS": "1",
        "MAX_ATTEMPTS": "5",
        "SENDER_POLL_SECONDS": "0.2",
        "DELIVERY_LEASE_SECONDS": "3",
        "WEBHOOK_ALLOW_PLAIN_HTTP": "true",
        "ADMIN_API_KEY": ADMIN_KEY,
    }


# --- helpers ---------------------------------------------------------------------------


def changed(event: E, **updates: Any) -> E:
    return type(event).model_validate({**event.model_dump(), **updates})


def contact(email: str, language: str) -> dict[str, Any]:
    return {
        **INQUIRY_RECEIVED.model_dump()["contact"],
        "email": email,
        "preferred_language": language,
    }


def text_of(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: Message) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


async def one_mail(server: SmtpServer, to: str, subject_part: str) -> Message:
    async def arrived() -> list[Message]:
        return server.to(to, subject_part)

    (message, *more) = await eventually(arrived)
    assert not more, f"{len(more) + 1} mails to {to} about {subject_part!r}"
    return message


def topic_for_name(name: str) -> str:
    return f"indgang.{name}.v1"


async def at_least(mail: SmtpServer, to: str, subject: str, count: int) -> list[Message] | None:
    found = mail.to(to, subject)
    return found if len(found) >= count else None


async def accepted_by(receiver: WebhookReceiver, event_id: str) -> list[Received]:
    return receiver.accepted(event_id)


async def started(server: uvicorn.Server) -> bool:
    return server.started
