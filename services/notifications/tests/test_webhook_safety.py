"""Webhooks cannot be pointed inside (issue 12, finding 3): addresses that are not public
are refused when a subscription is registered and again at every send, after the name
is resolved, and the sender connects to the address it checked (Host header and TLS
name stay the URL's). What people see of a failure is a short reason, never the
receiver's answer. A real HTTP server on loopback plays the receiver; a resolver
stands in for DNS, so a name can be made to answer what a rebinding attacker would."""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.domain.addresses import address_refused, networks, url_problem
from indgang_notifications.domain.subscriptions import Subscription
from indgang_notifications.settings import NotificationSettings
from indgang_notifications.web.registration import registration_problems
from indgang_runtime.settings import UnsafeForProduction

LOOPBACK = networks("127.0.0.0/8, ::1")


@dataclass
class Receiver:
    """A bare HTTP/1.1 server on 127.0.0.1 that records each request's head."""

    status: int = 200
    body: bytes = b""
    heads: list[str] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = next(
            (
                int(line.split(":", 1)[1])
                for line in head.split("\r\n")
                if line.lower().startswith("content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        self.heads.append(head)
        writer.write(
            f"HTTP/1.1 {self.status} X\r\ncontent-length: {len(self.body)}\r\n"
            "connection: close\r\n\r\n".encode()
            + self.body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


def dns(*answers: list[str]) -> tuple[list[str], object]:
    """A resolver answering each lookup with the next of `answers`; and its log."""
    asked: list[str] = []
    queue = list(answers)

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return asked, resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "169.254.10.10",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::5",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "not-an-address",
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    assert address_refused(address)


def test_public_addresses_pass_and_the_allowlist_never_opens_the_metadata_service() -> None:
    assert not address_refused("93.184.215.14")
    assert not address_refused("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert not address_refused("127.0.0.1", LOOPBACK)
    assert not address_refused("::1", LOOPBACK)
    everything = networks("0.0.0.0/0, ::/0")
    assert address_refused("169.254.169.254", everything)
    assert address_refused("fd00:ec2::254", everything)


def test_the_url_itself_must_be_https_without_credentials_or_internal_literals() -> None:
    def problem(url: str, plain: bool = False) -> str | None:
        return url_problem(url, allow_plain_http=plain, allowed=())

    assert problem("https://hooks.kommune.example/indgang") is None
    assert problem("http://hooks.kommune.example/indgang") == "the URL must use https"
    assert problem("http://hooks.kommune.example/indgang", plain=True) is None
    assert problem("https://user:pw@hooks.kommune.example/") is not None
    assert problem("https://169.254.169.254/latest/meta-data") == "address not allowed"
    assert problem("https://[fd00:ec2::254]/") == "address not allowed"
    assert problem("https://metadata.google.internal/") == "address not allowed"
    assert problem("ftp://hooks.kommune.example/") is not None


async def test_a_name_resolving_inside_is_refused_at_send_time_and_nothing_is_sent(
    receiver: Receiver,
) -> None:
    asked, resolve = dns(["127.0.0.1"])
    sender = WebhookSender(5, True, "test", allowed=(), resolver=resolve)  # type: ignore[arg-type]
    with pytest.raises(SendFailed) as refused:
        await sender.post(f"http://hooks.example:{receiver.port}/x", "s" * 20, b"{}", "d-1")
    await sender.close()
    assert refused.value.permanent
    assert refused.value.error == "address not allowed"
    assert asked == ["hooks.example"]
    assert receiver.heads == []


async def test_the_sender_connects_to_the_address_it_checked_with_the_name_as_host(
    receiver: Receiver,
) -> None:
    """DNS rebinding: the name answers an allowed address for the check, then (to any
    later lookup) a refused one. The one lookup the sender makes is the one it checked
    and connects to; the receiver sees the URL's name in the Host header."""
    asked, resolve = dns(["127.0.0.1"], ["169.254.169.254"])
    sender = WebhookSender(5, True, "test", allowed=LOOPBACK, resolver=resolve)  # type: ignore[arg-type]
    await sender.post(f"http://rebind.example:{receiver.port}/hook", "s" * 20, b"{}", "d-2")
    await sender.close()
    assert asked == ["rebind.example"]
    (head,) = receiver.heads
    assert head.startswith("POST /hook HTTP/1.1")
    assert f"host: rebind.example:{receiver.port}" in head.lower()


async def test_any_refused_address_among_the_answers_refuses_the_send(
    receiver: Receiver,
) -> None:
    _, resolve = dns(["127.0.0.1", "10.0.0.1"])
    sender = WebhookSender(5, True, "test", allowed=LOOPBACK, resolver=resolve)  # type: ignore[arg-type]
    with pytest.raises(SendFailed, match="address not allowed"):
        await sender.post(f"http://two.example:{receiver.port}/", "s" * 20, b"{}", "d-3")
    await sender.close()
    assert receiver.heads == []


async def test_last_error_is_a_short_reason_without_the_receivers_answer(
    receiver: Receiver,
) -> None:
    receiver.status, receiver.body = 500, b"Traceback: db password=hunter2 at 10.0.0.7"
    sender = WebhookSender(5, True, "test", allowed=LOOPBACK)
    with pytest.raises(SendFailed) as failed:
        await sender.post(f"http://127.0.0.1:{receiver.port}/", "s" * 20, b"{}", "d-4")
    assert failed.value.error == "HTTP 500 from receiver"
    with pytest.raises(SendFailed) as unreachable:
        await sender.post("http://127.0.0.1:9/", "s" * 20, b"{}", "d-5")  # discard: closed
    await sender.close()
    assert unreachable.value.error == "could not connect to the receiver"
    assert not unreachable.value.permanent


def webhook(url: str, secret: str) -> Subscription:
    return Subscription(
        id="fagsystem",
        name="Fagsystem",
        event_types=["referral-made"],
        channel="webhook",
        url=url,
        secret=secret,
    )


def production(**values: object) -> NotificationSettings:
    return NotificationSettings(
        environment="production",
        session_secret=secrets.token_urlsafe(48),
        session_https_only=True,
        auth_mode="oidc",
        oidc_issuer="https://login.kommune.example/realms/indgang",
        oidc_client_id="indgang",
        oidc_client_secret=secrets.token_urlsafe(32),
        **values,  # type: ignore[arg-type]
    )


async def test_registration_refuses_inside_urls_and_in_production_public_secrets() -> None:
    development = NotificationSettings(environment="development", webhook_allow_plain_http=True)
    good = secrets.token_urlsafe(40)
    assert await registration_problems(webhook("http://127.0.0.1:8090/h", good), development) == []
    assert await registration_problems(webhook("http://10.0.0.5/h", good), development) == [
        ("url", "address not allowed")
    ]
    assert await registration_problems(webhook("http://localhost:8090/h", good), production()) == [
        ("url", "the URL must use https")
    ]
    assert await registration_problems(webhook("https://localhost:8090/h", good), production()) == [
        ("url", "address not allowed")
    ]
    for public in ("dev-webhook-secret-jobcenter", "replace-with-a-long-random-secret", "x" * 20):
        problems = await registration_problems(webhook("https://[::1]/h", public), production())
        assert [f for f, _ in problems] == ["url", "secret"]
        assert all(public not in message for _, message in problems)
    assert await registration_problems(webhook("http://127.0.0.1/h", "x" * 20), development) == []


def test_the_allowlist_is_loopback_in_development_and_empty_in_production(tmp_path: Path) -> None:
    assert NotificationSettings(environment="development").webhook_networks == LOOPBACK
    assert production().webhook_networks == ()
    assert production(webhook_allowed_networks="10.20.0.0/16").webhook_networks == networks(
        "10.20.0.0/16"
    )
    production(webhook_allowed_networks="10.20.0.0/16").check_production()
    with pytest.raises(UnsafeForProduction, match="WEBHOOK_ALLOWED_NETWORKS contains loopback"):
        production(webhook_allowed_networks="127.0.0.1").check_production()
    inside = tmp_path / "subscriptions.toml"
    inside.write_text(
        '[[subscription]]\nid = "fagsystem"\nname = "F"\nevent_types = ["referral-made"]\n'
        f'channel = "webhook"\nurl = "https://169.254.169.254/x"\n'
        f'secret = "{secrets.token_urlsafe(40)}"\n'
    )
    with pytest.raises(UnsafeForProduction, match="fagsystem \\(address not allowed\\)"):
        production(subscriptions_file=inside).check_production()


def certificates(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA made here and a server certificate for `name` signed by it: the server's
    TLS context and a client context that trusts only that CA."""
    now = datetime.now(UTC)

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: Any, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    leaf = certificate(name, server_key, "test CA", ca_key, ca=False)
    (tmp_path / "server.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "server.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@pytest.mark.parametrize(("certified", "sent"), [("hooks.example", True), ("other.example", False)])
async def test_over_tls_the_pinned_address_is_verified_against_the_urls_name(
    tmp_path: Path, certified: str, sent: bool
) -> None:
    """The sender connects to 127.0.0.1 (what it resolved and checked) but asks for and
    verifies the certificate of the URL's name: a certificate for that name is accepted,
    one for another name refused (no request is made)."""
    server_tls, client_tls = certificates(tmp_path, certified)
    found = Receiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    _, resolve = dns(["127.0.0.1"])
    sender = WebhookSender(
        5,
        False,
        "test",
        allowed=LOOPBACK,
        resolver=resolve,
        verify=client_tls,  # type: ignore[arg-type]
    )
    async with server:
        try:
            outcome = "sent"
            try:
                await sender.post(f"https://hooks.example:{port}/tls", "s" * 20, b"{}", "d-6")
            except SendFailed as failed:
                outcome = failed.error
        finally:
            await sender.close()
    assert outcome == ("sent" if sent else "could not connect to the receiver")
    if sent:
        (head,) = found.heads
        assert f"host: hooks.example:{port}" in head.lower()
    else:
        assert found.heads == []
