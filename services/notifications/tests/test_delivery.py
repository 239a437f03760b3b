"""Notifications as a real process on the real Kafka and store, with a real SMTP server
(aiosmtpd) and a real HTTP receiver that verifies signatures the way the README says.

What each test sends and receives is in its docstring.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from playwright.async_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import Event
from indgang_contracts.examples import (
    CASE_ROUTED,
    CASE_STATUS_CHANGED,
    FIRST_CONTACT_OVERDUE,
    GUIDE_ENTRIES_SHARED,
    INQUIRY_RECEIVED,
    REFERRAL_MADE,
)

from harness import (
    KAFKA_BOOTSTRAP,
    EventLog,
    ServiceProcess,
    SmtpServer,
    eventually,
    free_port,
    produce,
    service_env,
)
from pytest_indgang import axe_violations, drop_run

pytestmark = pytest.mark.infra
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


# --- fixtures --------------------------------------------------------------------------


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


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hooks = WebhookReceiver(secrets={"/jobcenter": JOBCENTER_SECRET})
    app = Starlette(routes=[Route("/{path:path}", hooks.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=hooks.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: _started(server))
    yield hooks
    server.should_exit = True
    await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def notifications(
    infra: None,
    mail: SmtpServer,
    receiver: WebhookReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Notifications]:
    run_id = uuid.uuid4().hex[:8]
    config = write_config(tmp_path_factory.mktemp("notifications"), receiver)
    process = ServiceProcess("notifications", notifications_env(run_id, mail.port, config))
    process.start()
    try:
        await process.wait_ready()
        yield Notifications(run_id, process, mail, receiver)
    finally:
        process.stop()
        await drop_run(run_id)


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


# --- tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["da", "en"])
async def test_every_message_arrives_once_with_the_right_content(
    notifications: Notifications, language: str
) -> None:
    """Sends, per language, inquiry-received, case-routed, referral-made (to the job
    centre without consent, and to business service with consent), first-contact-overdue
    and guide-entries-shared for one inquirer who prefers `language`. Receives: the
    receipt, the introduction of the consultant, two referral notices and the guide
    entries for the inquirer (in `language`); the new-case and overdue mails for the
    consultant and the overdue mail for the team lead (Danish, the staff language); the
    referral at the job centre (Danish) and at business service (English, its setting);
    the referral CloudEvent at the job centre's webhook with a valid signature; and
    notification-delivered for each."""
    n, mail = notifications, notifications.mail
    tag = f"{language}-{uuid.uuid4().hex[:6]}"
    inquirer = f"inquirer-{tag}@example.dk"
    consultant = {**CASE_ROUTED.model_dump()["consultant"], "email": f"ane-{tag}@kommune.example"}
    case_id = f"case-{tag}"
    reference = f"H-{tag.upper()}"
    lead = f"lead-{tag}@kommune.example"
    async with EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-delivered"))) as log:
        inquiry = await n.send(
            changed(
                INQUIRY_RECEIVED,
                inquiry_id=f"inq-{tag}",
                reference=reference,
                contact=contact(inquirer, language),
            )
        )
        routed = await n.send(
            changed(
                CASE_ROUTED,
                case_id=case_id,
                inquiry_id=f"inq-{tag}",
                reference=reference,
                consultant=consultant,
                contact=contact(inquirer, language),
            )
        )
        words = {
            "da": ("Vi har modtaget", "Din kontakt", "Vejledning fra", "Vi har inddraget"),
            "en": ("We have received", "Your contact", "Guidance from", "We have involved"),
        }[language]
        receipt = await one_mail(mail, inquirer, words[0])
        intro = await one_mail(mail, inquirer, words[1])
        # The referral without consent: its notice must use the contact from case-routed.
        job_centre = await n.send(
            changed(
                REFERRAL_MADE,
                case_id=case_id,
                referral_id=f"ref-jc-{tag}",
                reference=reference,
                consultant=consultant,
                consent_to_share_contact=False,
                contact=None,
            )
        )
        await n.send(
            changed(
                REFERRAL_MADE,
                case_id=case_id,
                referral_id=f"ref-bs-{tag}",
                reference=reference,
                consultant=consultant,
                target={"department": "business_service"},
                contact=contact(inquirer, language),
            )
        )
        await n.send(
            changed(
                FIRST_CONTACT_OVERDUE,
                case_id=case_id,
                reference=reference,
                consultant=consultant,
                team_lead_email=lead,
            )
        )
        await n.send(
            changed(
                GUIDE_ENTRIES_SHARED,
                case_id=case_id,
                reference=reference,
                consultant=consultant,
                contact=contact(inquirer, language),
            )
        )

        guide = await one_mail(mail, inquirer, words[2])
        notices = await eventually(lambda: _at_least(mail, inquirer, words[3], 2))
        assigned = await one_mail(mail, consultant["email"], "Ny sag til dig")
        overdue = await one_mail(mail, consultant["email"], "Første kontakt er overskredet")
        lead_mail = await one_mail(mail, lead, "Overskredet første kontakt")
        jc_mail = await one_mail(mail, "jobcenter@kommune.example", reference)
        bs_mail = await one_mail(mail, "erhverv@kommune.example", reference)
        (hook,) = await eventually(lambda: _accepted(n.receiver, job_centre.headers["ce_id"]))

        # Each arrives once, with a stable Message-ID, in the right language and content.
        await asyncio.sleep(1.5)
        assert len(mail.to(inquirer)) == 5
        assert reference in receipt["Subject"]
        if language == "da":
            assert "kan ikke give direkte økonomisk støtte" in text_of(receipt)
            assert "Ane Kjær er din ene kontakt" in text_of(intro)
            assert all("Din kontakt er stadig Ane Kjær" in text_of(m) for m in notices)
            assert "Læs mere: https://erhvervsstyrelsen.dk/" in text_of(guide)
        else:
            assert "cannot give direct financial support" in text_of(receipt)
            assert "Ane Kjær is your one contact" in text_of(intro)
            assert all("Your contact stays Ane Kjær" in text_of(m) for m in notices)
            assert "Read more: https://erhvervsstyrelsen.dk/" in text_of(guide)
        assert f'lang="{language}"' in html_of(intro)
        assert intro["Content-Language"] == language
        assert "+4596601001" in text_of(intro)
        assert "faglig match" in text_of(assigned)
        assert case_id in text_of(overdue)
        assert "Ane Kjær" in text_of(lead_mail)
        assert "ikke givet samtykke" in text_of(jc_mail)
        assert inquirer not in text_of(jc_mail)
        assert "/api/v1/referrals/ref-jc-" in text_of(jc_mail)
        assert "Referral from One entrance" in bs_mail["Subject"]
        assert f"Contact person (shared with consent): Åse Ødegård, {inquirer}" in text_of(bs_mail)
        message_ids = [m["Message-ID"] for m in mail.received if reference in str(m["Subject"])]
        assert len(message_ids) == len(set(message_ids))

        assert hook.valid
        assert hook.headers["content-type"].startswith("application/cloudevents+json")
        assert hook.event["type"] == "dk.indgang.referral-made.v1"
        assert hook.event["data"]["referral_id"] == f"ref-jc-{tag}"
        assert hook.event["data"]["contact"] is None

        # The outcomes are published, so a case timeline can say "receipt sent 10:02".
        delivered = await log.wait_for(
            lambda e: (
                e.data.event_id == inquiry.headers["ce_id"] and e.data.message_kind == "receipt"
            )
        )
        assert delivered.data.recipient_role == "inquirer"
        assert delivered.data.inquiry_id == f"inq-{tag}"
        await log.wait_for(
            lambda e: (
                e.data.event_id == routed.headers["ce_id"] and e.data.message_kind == "introduction"
            )
        )
        await log.wait_for(
            lambda e: e.data.event_id == job_centre.headers["ce_id"] and e.data.channel == "webhook"
        )


def topic_for_name(name: str) -> str:
    return f"indgang.{name}.v1"


async def _at_least(mail: SmtpServer, to: str, subject: str, count: int) -> list[Message] | None:
    found = mail.to(to, subject)
    return found if len(found) >= count else None


async def _accepted(receiver: WebhookReceiver, event_id: str) -> list[Received]:
    return receiver.accepted(event_id)


async def test_redelivered_event_sends_nothing_new(notifications: Notifications) -> None:
    """Sends the same inquiry-received record three times (as Kafka redelivers it).
    Receives one receipt, and the delivery log has one delivery for the inquiry."""
    inquirer = f"again-{uuid.uuid4().hex[:6]}@example.dk"
    inquiry = changed(
        INQUIRY_RECEIVED, inquiry_id=f"inq-{inquirer}", contact=contact(inquirer, "da")
    )
    await notifications.send(inquiry, times=3)
    await one_mail(notifications.mail, inquirer, "Vi har modtaget")
    await asyncio.sleep(2)  # room for a duplicate, if there were one
    assert len(notifications.mail.to(inquirer)) == 1
    (delivery,) = await notifications.deliveries(inquiry.inquiry_id)
    assert delivery["status"] == "sent"
    assert delivery["attempts"] == 1


async def test_mail_waits_out_an_smtp_outage_and_arrives_once(
    notifications: Notifications,
) -> None:
    """Stops the SMTP server, sends two inquiry-received events; sees the deliveries
    fail and be retried (attempts, last error, next attempt in the log); starts the SMTP
    server again on the same port. Receives each receipt exactly once."""
    mail = notifications.mail
    inquirers = [f"outage-{i}-{uuid.uuid4().hex[:6]}@example.dk" for i in range(2)]
    mail.stop()
    try:
        for address in inquirers:
            await notifications.send(
                changed(
                    INQUIRY_RECEIVED, inquiry_id=f"inq-{address}", contact=contact(address, "da")
                )
            )

        async def retrying() -> list[dict[str, Any]] | None:
            rows = [r for a in inquirers for r in await notifications.deliveries(a)]
            failing = [r for r in rows if r["attempts"] >= 2 and r["status"] == "pending"]
            return rows if len(failing) == len(inquirers) else None

        rows = await eventually(retrying, timeout=20, interval=0.1)
        assert all(r["last_error"] for r in rows)
        assert all(r["next_attempt_at"] for r in rows)
    finally:
        mail.start()
    for address in inquirers:
        await one_mail(mail, address, "Vi har modtaget")
    await asyncio.sleep(2)
    assert [len(mail.to(a)) for a in inquirers] == [1, 1]
    for address in inquirers:
        (row,) = await notifications.deliveries(address)
        assert row["status"] == "sent"
        assert row["attempts"] >= 2
        assert len(row["errors"]) == row["attempts"] - 1


async def test_webhook_500_then_200_is_one_successful_delivery(
    notifications: Notifications,
) -> None:
    """The job centre's receiver answers 500 once, then 200. Sends one referral-made to
    the job centre. Receives two signed POSTs of the same CloudEvent, one accepted; the
    delivery is sent after 2 attempts and notification-delivered says attempts=2."""
    n = notifications
    n.receiver.planned["/jobcenter"] = [500]
    referral = changed(REFERRAL_MADE, referral_id=f"ref-{uuid.uuid4().hex[:6]}")
    async with EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-delivered"))) as log:
        record = await n.send(referral)
        event_id = record.headers["ce_id"]
        outcome = await log.wait_for(
            lambda e: e.data.event_id == event_id and e.data.channel == "webhook"
        )
    assert outcome.data.attempts == 2
    posts = n.receiver.for_event(event_id)
    assert [p.status for p in posts] == [500, 200]
    assert all(p.valid for p in posts)
    assert posts[0].body == posts[1].body  # the same CloudEvent, re-signed
    (delivery,) = [
        d
        for d in await n.deliveries(referral.case_id)
        if d["channel"] == "webhook" and d["event_id"] == event_id
    ]
    assert delivery["status"] == "sent"
    assert delivery["attempts"] == 2


async def test_dead_delivery_is_published_and_can_be_resent(notifications: Notifications) -> None:
    """The receiver answers 500 five times (MAX_ATTEMPTS=5). Sends one referral-made.
    Receives five failed POSTs, then notification-failed with the error; the log shows
    the delivery dead. Resending it through the API (admin key) makes a new cycle that
    succeeds: one accepted POST and notification-delivered."""
    n = notifications
    n.receiver.planned["/jobcenter"] = [500] * 5
    referral = changed(REFERRAL_MADE, referral_id=f"ref-{uuid.uuid4().hex[:6]}")
    async with (
        EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-failed"))) as failed,
        EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-delivered"))) as delivered,
    ):
        record = await n.send(referral)
        event_id = record.headers["ce_id"]
        dead = await failed.wait_for(lambda e: e.data.event_id == event_id)
        assert dead.data.attempts == 5
        assert dead.data.error == "HTTP 500 from receiver"
        (row,) = [
            d
            for d in await n.deliveries(referral.case_id)
            if d["event_id"] == event_id and d["channel"] == "webhook"
        ]
        assert row["status"] == "dead"
        assert len(row["errors"]) == 5
        assert not n.receiver.accepted(event_id)

        async with n.api() as api:
            assert (await api.post(f"/api/v1/deliveries/{row['id']}/resend")).status_code == 202
            again = await api.post(f"/api/v1/deliveries/{row['id']}/resend")
            assert again.status_code in (202, 409)  # 409 once it is no longer dead
            assert (await api.post("/api/v1/deliveries/nope/resend")).status_code == 404
        await delivered.wait_for(lambda e: e.data.event_id == event_id)
    await asyncio.sleep(1)
    assert len(n.receiver.accepted(event_id)) == 1
    (row,) = [d for d in await n.deliveries(referral.case_id) if d["id"] == row["id"]]
    assert row["status"] == "sent"
    assert row["cycle"] == 2


async def test_unrenderable_event_goes_to_dead_letter_with_reason(
    notifications: Notifications,
) -> None:
    """Sends a referral-made to an outside provider, for which this deployment has no
    mailbox, then a valid inquiry-received. Receives the referral on the dead-letter
    topic with the reason and this consumer group; the inquiry's receipt still arrives."""
    n = notifications
    orphan = changed(
        REFERRAL_MADE, referral_id="ref-orphan", target={"department": "outside_provider"}
    )
    inquirer = f"after-dlt-{uuid.uuid4().hex[:6]}@example.dk"
    async with EventLog(KAFKA_BOOTSTRAP, n.topic("indgang.dead-letter.v1")) as dead:
        record = await n.send(orphan)
        await n.send(
            changed(INQUIRY_RECEIVED, inquiry_id=f"inq-{inquirer}", contact=contact(inquirer, "en"))
        )

        async def dead_lettered() -> dict[str, str] | None:
            for r in dead.records:
                headers = {k: v.decode() for k, v in r.headers}
                if headers.get("ce_id") == record.headers["ce_id"]:
                    return headers
            return None

        headers = await eventually(dead_lettered)
    assert "no mailbox configured for outside_provider" in headers["dlt_reason"]
    # The group may carry the run's topic prefix (several runs share one cluster).
    assert headers["dlt_consumer_group"].endswith("indgang-notifications")
    assert headers["dlt_original_topic"] == n.topic("indgang.referral-made.v1")
    await one_mail(n.mail, inquirer, "We have received")


async def test_subscriptions_api_needs_the_admin_key_and_never_shows_secrets(
    notifications: Notifications,
) -> None:
    """Creates a webhook subscription to case-status-changed through the API, replaces it
    without a secret (the secret is kept), sends one case-status-changed; the receiver
    gets it signed with the original secret. Without the key: 401/403; invalid input:
    422 with the field; deleted: 404."""
    n = notifications
    secret = "status-secret-0123456789"
    n.receiver.secrets["/status"] = secret
    body = {
        "name": "Sagsoverblik",
        "event_types": ["case-status-changed"],
        "channel": "webhook",
        "url": f"{n.receiver.url}/status",
        "secret": secret,
    }
    async with httpx.AsyncClient(base_url=n.process.url) as anonymous:
        assert (await anonymous.get("/api/v1/subscriptions")).status_code == 401
        wrong = await anonymous.get("/api/v1/subscriptions", headers={"X-Admin-Key": "nope"})
        assert wrong.status_code == 403
        assert (await anonymous.get("/api/v1/deliveries")).status_code == 401
    async with n.api() as api:
        bad = await api.put(
            "/api/v1/subscriptions/status", json={**body, "url": "ftp://x", "email": 7}
        )
        assert bad.status_code == 422
        assert {tuple(e["loc"]) for e in bad.json()["detail"]} >= {("body", "email")}
        created = await api.put("/api/v1/subscriptions/status", json=body)
        assert created.status_code == 201, created.text
        assert secret not in created.text
        assert created.json()["has_secret"] is True
        without_secret = {k: v for k, v in body.items() if k != "secret"}
        replaced = await api.put("/api/v1/subscriptions/status", json=without_secret)
        assert replaced.status_code == 200
        listed = await api.get("/api/v1/subscriptions")
        assert secret not in listed.text
        assert {s["id"] for s in listed.json()} >= {"jobcenter-system", "status"}

        record = await n.send(changed(CASE_STATUS_CHANGED, case_id=f"case-{uuid.uuid4().hex[:6]}"))
        (post,) = await eventually(lambda: _accepted(n.receiver, record.headers["ce_id"]))
        assert post.valid
        assert post.event["data"]["status"] == "in_progress"

        assert (await api.delete("/api/v1/subscriptions/status")).status_code == 204
        assert (await api.get("/api/v1/subscriptions/status")).status_code == 404


# --- a process killed mid-batch ------------------------------------------------------------


class GatedSmtp:
    """An SMTP server that takes `open_for` messages, then holds the next one until
    released (so the test can kill the sender while it is in the middle of a send)."""

    def __init__(self, open_for: int) -> None:
        self.port = free_port()
        self.received: list[Message] = []
        self.holding = threading.Event()
        self.released = threading.Event()
        self._open_for = open_for
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            gate = len(self.received) >= self._open_for and not self.released.is_set()
        if gate:
            self.holding.set()
            # Released from the test thread; cancelled when the client dies.
            while not self.released.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        message = message_from_bytes(envelope.original_content, policy=default_policy)
        with self._lock:
            self.received.append(message)
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


async def test_killed_mid_batch_and_restarted_loses_and_doubles_nothing(
    infra: None, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Sends 8 inquiry-received events to a notifications process (one sender worker)
    whose SMTP server accepts 3 mails and holds the 4th; SIGKILLs the process while it
    waits for that 4th; restarts it. Receives all 8 receipts, each Message-ID once."""
    run_id = uuid.uuid4().hex[:8]
    smtp = GatedSmtp(open_for=3)
    smtp.start()
    env = {
        **notifications_env(run_id, smtp.port, write_config(tmp_path, receiver)),
        "SENDER_CONCURRENCY": "1",
        "DELIVERY_LEASE_SECONDS": "2",
    }
    first = ServiceProcess("notifications", env)
    first.start()
    second: ServiceProcess | None = None
    try:
        await first.wait_ready()
        n = Notifications(run_id, first, SmtpServer(), receiver)
        inquirers = [f"batch-{i}-{run_id}@example.dk" for i in range(8)]
        for address in inquirers:
            await n.send(
                changed(
                    INQUIRY_RECEIVED, inquiry_id=f"inq-{address}", contact=contact(address, "da")
                )
            )
        await eventually(lambda: _is_set(smtp.holding))
        first.stop(signal.SIGKILL)
        assert len(smtp.received) == 3
        smtp.released.set()

        second = ServiceProcess("notifications", env)
        second.start()
        await second.wait_ready()

        async def all_arrived() -> bool:
            return len(smtp.received) >= len(inquirers)

        await eventually(all_arrived, timeout=60)
        await asyncio.sleep(3)  # room for a duplicate, if there were one
        message_ids = [m["Message-ID"] for m in smtp.received]
        assert len(message_ids) == len(inquirers)
        assert len(set(message_ids)) == len(inquirers)
        assert sorted(str(m["To"]) for m in smtp.received) == sorted(inquirers)
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop()
        smtp.stop()
        await drop_run(run_id)


async def _is_set(event: threading.Event) -> bool:
    return event.is_set()


async def test_delivery_log_page_finds_and_resends_a_dead_delivery(
    notifications: Notifications, page: Page
) -> None:
    """The job centre's receiver answers 410 Gone (permanent) once. Sends one referral-made.
    In Chromium: the log asks for sign-in; the team lead signs in, searches the case,
    sees the webhook delivery given up with 'HTTP 410', presses 'Send igen', and after a
    reload sees it sent (one accepted POST). The page has no serious axe violations, in
    Danish and in English."""
    n = notifications
    n.receiver.planned["/jobcenter"] = [410]
    case_id = f"case-page-{uuid.uuid4().hex[:6]}"
    record = await n.send(changed(REFERRAL_MADE, case_id=case_id, referral_id=f"ref-{case_id}"))
    event_id = record.headers["ce_id"]

    async def dead_row() -> list[dict[str, Any]]:
        rows = await n.deliveries(case_id)
        return [r for r in rows if r["channel"] == "webhook" and r["status"] == "dead"]

    (row,) = await eventually(dead_row)

    await page.goto(f"{n.process.url}/leveringer?q={case_id}")
    assert "/auth/login" in page.url
    await page.fill("#username", "teamleder")
    await page.fill("#password", "indgang-dev")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#deliveries")
    assert await page.locator("html").get_attribute("lang") == "da"
    dead = page.locator(f"#delivery-{row['id']}")
    assert "Opgivet" in await dead.inner_text()
    assert "HTTP 410" in await dead.inner_text()
    assert await axe_violations(page) == []

    await dead.get_by_role("button", name="Send igen").click()
    await page.wait_for_selector("#notice")
    assert "sendes igen" in await page.locator("#notice").inner_text()
    await eventually(lambda: _accepted(n.receiver, event_id))

    async def shown_sent() -> bool:
        await page.goto(f"{n.process.url}/leveringer?q={case_id}&lang=en")
        return "Sent" in await page.locator(f"#delivery-{row['id']}").inner_text()

    await eventually(shown_sent)
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.locator("h1").inner_text() == "Delivery log"
    assert await axe_violations(page) == []
    assert len(n.receiver.accepted(event_id)) == 1
