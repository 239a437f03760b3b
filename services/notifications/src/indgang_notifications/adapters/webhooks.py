"""Webhooks: the CloudEvent in structured mode, POSTed with an HMAC signature."""

from __future__ import annotations

import time

import httpx

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.domain.signature import SIGNATURE_HEADER, signature

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class WebhookSender:
    """POSTs through one HTTP client whose connections are kept and reused."""

    def __init__(self, timeout_seconds: float, allow_plain_http: bool, user_agent: str) -> None:
        self._timeout = timeout_seconds
        self._allow_http = allow_plain_http
        self._user_agent = user_agent
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def post(self, url: str, secret: str, body: bytes, delivery_id: str) -> None:
        if not url.startswith("https://") and not self._allow_http:
            raise SendFailed("webhook URL must use https", permanent=True)
        # A fresh timestamp per attempt: the receiver's replay window is about
        # this request, not about when the event happened.
        timestamp = int(time.time())
        headers = {
            "content-type": CONTENT_TYPE,
            "user-agent": self._user_agent,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            "X-Indgang-Delivery": delivery_id,
        }
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        status = response.status_code
        # 4xx says the request itself is wrong (bad signature, gone): retrying the same
        # request cannot help, except timeouts and rate limits.
        permanent = 400 <= status < 500 and status not in (408, 409, 425, 429)
        raise SendFailed(f"HTTP {status} from receiver", permanent=permanent)
