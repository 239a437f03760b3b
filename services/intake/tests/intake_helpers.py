"""Helpers for intake's tests against the running services (`system` fixture)."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

from pymongo import AsyncMongoClient

from harness import MONGODB_URI

_ips = itertools.count(1)


def client_ip() -> str:
    """A client address of the test's own (sent as X-Forwarded-For, which uvicorn trusts
    from 127.0.0.1), so each test has its own rate-limit bucket like a real visitor."""
    n = next(_ips) + random.randrange(0, 200) * 1000
    return f"198.{18 + (n >> 16) % 2}.{(n >> 8) % 256}.{n % 256}"


def valid_cvr() -> str:
    """A random CVR number that passes the modulus-11 check (so tests do not share one)."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    while True:
        digits = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(6)]
        last = (-sum(w * d for w, d in zip(weights, digits, strict=True))) % 11
        if last < 10:
            return "".join(map(str, digits)) + str(last)


def inquiry(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation": {"name": "Kaffe & Omsorg ApS", "cvr": valid_cvr(), "stage": "start_up"},
        "contact": {
            "name": "Åse Ødegård",
            "email": f"aase.{uuid.uuid4().hex[:8]}@kaffeogomsorg.example",
            "phone": "+45 20 30 40 50",
        },
        "needs": ["hiring_vulnerable_unemployed"],
        "description": "Vi vil ansætte to personer i løntilskud. Æøå!",
        "privacy_notice_accepted": True,
    }
    body.update(changes)
    return body


class IntakeStore:
    """Read-only view of the run's intake database, to see what was (not) stored."""

    def __init__(self, run_id: str) -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            MONGODB_URI, tz_aware=True
        )
        self.inquiries = self._client[f"t_{run_id}_intake"]["inquiries"]

    async def by_email(self, email: str) -> list[dict[str, Any]]:
        return await self.inquiries.find({"contact.email": email}).to_list(None)

    async def close(self) -> None:
        await self._client.close()
