"""Webhooks: the CloudEvent in structured mode, POSTed with an HMAC signature.

Each send resolves the URL's host itself, checks every address it got
(`domain.addresses`) and connects to the first one: the URL's host is replaced
by that address, and the Host header and the TLS server name (SNI, and so the
certificate check) are the original name. A name whose DNS answer changes
between the check and the connection (DNS rebinding) therefore cannot lead the
request inside. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.domain.addresses import (
    ADDRESS_NOT_ALLOWED,
    IPNetwork,
    address_refused,
    is_ip_literal,
    url_problem,
)
from indgang_notifications.domain.signature import SIGNATURE_HEADER, signature
from indgang_runtime.telemetry import traced_http

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
# The host's addresses, for a name and port (a seam for tests).
Resolve = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (what a connection could be made to)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(
    url: str,
    *,
    allow_plain_http: bool,
    allowed: Sequence[IPNetwork],
    resolver: Resolve = resolve,
) -> tuple[httpx.URL, list[str]]:
    """The URL and the addresses its host resolves to, all of them allowed; raises
    `SendFailed` (permanent) with a reason fit for people if any is not."""
    problem = url_problem(url, allow_plain_http=allow_plain_http, allowed=allowed)
    if problem:
        raise SendFailed(problem, permanent=True)
    parsed = httpx.URL(url)
    host = parsed.host
    if is_ip_literal(host):
        return parsed, [host]
    try:
        addresses = await resolver(host, parsed.port or _default_port(parsed))
    except OSError as exc:
        raise SendFailed("the receiver's host name could not be resolved") from exc
    if not addresses:
        raise SendFailed("the receiver's host name could not be resolved")
    # All, not just the first: the answer's order may change from one lookup to the next.
    if any(address_refused(a, allowed) for a in addresses):
        raise SendFailed(ADDRESS_NOT_ALLOWED, permanent=True)
    return parsed, addresses


class WebhookSender:
    """POSTs through one HTTP client whose connections are kept and reused."""

    def __init__(
        self,
        timeout_seconds: float,
        allow_plain_http: bool,
        user_agent: str,
        allowed: Sequence[IPNetwork] = (),
        resolver: Resolve = resolve,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._timeout = timeout_seconds
        self._verify = verify
        self._allow_http = allow_plain_http
        self._allowed = tuple(allowed)
        self._resolve = resolver
        self._user_agent = user_agent
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def post(self, url: str, secret: str, body: bytes, delivery_id: str) -> None:
        parsed, addresses = await checked_addresses(
            url, allow_plain_http=self._allow_http, allowed=self._allowed, resolver=self._resolve
        )
        # A fresh timestamp per attempt: the receiver's replay window is about
        # this request, not about when the event happened.
        timestamp = int(time.time())
        headers = {
            "host": parsed.netloc.decode("ascii"),
            "content-type": CONTENT_TYPE,
            "user-agent": self._user_agent,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            "X-Indgang-Delivery": delivery_id,
        }
        if self._client is None:
            self._client = traced_http(
                httpx.AsyncClient(
                    timeout=self._timeout,
                    follow_redirects=False,
                    trust_env=False,
                    verify=self._verify,
                )
            )
        pinned = parsed.copy_with(host=addresses[0])
        try:
            response = await self._client.post(
                pinned,
                content=body,
                headers=headers,
                extensions={"sni_hostname": parsed.host},
            )
        except httpx.TimeoutException as exc:
            raise SendFailed("the receiver did not answer in time") from exc
        except httpx.HTTPError as exc:
            # Not the exception's text: it would show internal details in the log page.
            raise SendFailed("could not connect to the receiver") from exc
        if response.is_success:
            return
        status = response.status_code
        # 4xx says the request itself is wrong (bad signature, gone): retrying the same
        # request cannot help, except timeouts and rate limits.
        permanent = 400 <= status < 500 and status not in (408, 409, 425, 429)
        raise SendFailed(f"HTTP {status} from receiver", permanent=permanent)


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80
