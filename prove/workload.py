"""What the prove sends: inquiries at a steady rate from many organisations, some of
them coming back; and, on the way, consultants' referrals and the department's answers.

Every request is sent the way a careful client would send it through crashes: an
inquiry with an Idempotency-Key, retried with the same key until intake answers (so a
retry never makes a second inquiry); a referral is retried only after the case shows
it was not made (the POST has no idempotency key); an answer is retried freely
(repeating an answer changes nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

now = time.monotonic
PASSWORD = "indgang-dev"  # deploy/dev/users.toml
DEPARTMENT_KEY = {"X-API-Key": "dev-key-job_centre"}  # deploy/dev/api-keys.toml
NEEDS = (
    "business_development",
    "hiring_vulnerable_unemployed",
    "funding_and_support",
    "selling_to_municipality",
    "rsv_registration",
)
STAGES = ("idea", "start_up", "established_social_economy")


def valid_cvr(n: int) -> str:
    """An 8-digit CVR number that passes the modulus-11 check (made up, but valid)."""
    weights = (2, 7, 6, 5, 4, 3, 2, 1)
    base = 10_000_000 + (n * 7919) % 89_000_000
    while True:
        digits = [int(c) for c in f"{base:08d}"]
        if sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 == 0:
            return f"{base:08d}"
        base += 1


@dataclass
class Organisation:
    number: int
    name: str
    email: str
    cvr: str | None


@dataclass
class Inquiry:
    number: int
    key: str  # Idempotency-Key
    organisation: Organisation
    scheduled: float
    status: str = ""  # "202", another status, or an error's name
    inquiry_id: str | None = None
    accepted_at: float | None = None
    tries: int = 0


@dataclass
class Referral:
    case_id: str
    marker: str  # in the purpose, to find it on the case after a lost response
    referral_id: str | None = None
    created: bool = False
    answered: bool = False
    tries: int = 0
    errors: list[str] = field(default_factory=list)


class Organisations:
    """New organisations, and with `repeat` probability one that wrote before."""

    def __init__(self, rng: random.Random, repeat: float) -> None:
        self.rng = rng
        self.repeat = repeat
        self.known: list[Organisation] = []

    def next(self) -> Organisation:
        if self.known and self.rng.random() < self.repeat:
            return self.rng.choice(self.known)
        n = len(self.known)
        cvr = valid_cvr(n) if n % 2 == 0 else None  # half known by CVR, half by e-mail
        org = Organisation(n, f"Prove Virksomhed {n} ApS", f"kontakt-{n}@prove.example", cvr)
        self.known.append(org)
        return org


def inquiry_body(inq: Inquiry, rng: random.Random) -> dict[str, Any]:
    org = inq.organisation
    organisation: dict[str, Any] = {"name": org.name, "stage": rng.choice(STAGES)}
    if org.cvr:
        organisation["cvr"] = org.cvr
    return {
        "organisation": organisation,
        "contact": {"name": f"Kontakt {org.number}", "email": org.email},
        "needs": rng.sample(NEEDS, rng.randint(1, 2)),
        "description": f"Henvendelse {inq.number} under prove.",
        "privacy_notice_accepted": True,
    }


class Inquirers:
    """POST /api/v1/inquiries with an Idempotency-Key, retried until intake answers."""

    def __init__(self, intake_url: str, rng: random.Random, give_up_s: float = 120) -> None:
        limits = httpx.Limits(max_connections=64, keepalive_expiry=2.0)
        self.http = httpx.AsyncClient(base_url=intake_url, timeout=10, limits=limits)
        self.rng = rng
        self.give_up_s = give_up_s

    async def send(self, inq: Inquiry) -> None:
        body = inquiry_body(inq, self.rng)
        headers = {
            "Idempotency-Key": inq.key,
            "X-Forwarded-For": f"203.0.113.{inq.number % 250 + 1}",
        }
        deadline = now() + self.give_up_s
        while True:
            inq.tries += 1
            try:
                response = await self.http.post("/api/v1/inquiries", json=body, headers=headers)
            except httpx.HTTPError as exc:
                inq.status = type(exc).__name__
            else:
                inq.status = str(response.status_code)
                if response.status_code == 202:
                    inq.inquiry_id = str(response.json()["inquiry_id"])
                    inq.accepted_at = time.time()
                    return
                # 409: the first request with this key is still being processed (a
                # retry after a timeout); 429: too many. Both are worth asking again.
                if response.status_code < 500 and response.status_code not in (409, 429):
                    return  # the request itself is wrong: retrying cannot help
            if now() > deadline:
                return
            await asyncio.sleep(0.5 + self.rng.random())

    async def close(self) -> None:
        await self.http.aclose()


async def open_loop(inquiries: list[Inquiry], rate: float, send: Any, stop: asyncio.Event) -> None:
    """Send inquiry i at t0 + i/rate whatever happened to the earlier ones."""
    t0 = now() + 0.05
    tasks = []
    for i, inq in enumerate(inquiries):
        inq.scheduled = t0 + i / rate
        await asyncio.sleep(max(0.0, inq.scheduled - now()))
        if stop.is_set():
            break
        tasks.append(asyncio.create_task(send(inq)))
    await asyncio.gather(*tasks)


class Consultants:
    """The team lead refers some cases to the job centre; the job centre answers."""

    def __init__(self, routing_url: str, rng: random.Random) -> None:
        self.routing_url = routing_url
        self.rng = rng
        self.referrals: list[Referral] = []
        self.staff = httpx.AsyncClient(base_url=routing_url, timeout=10)
        self.department = httpx.AsyncClient(base_url=routing_url, timeout=10)
        self._logged_in = False

    async def _login(self) -> None:
        # The session is kept in routing's store: it survives routing's restarts. Calls
        # with the session cookie carry its CSRF token (GET /auth/session gives it).
        response = await self.staff.post(
            "/auth/login", data={"username": "teamleder", "password": PASSWORD}
        )
        if response.status_code != 303:
            raise RuntimeError(f"login as teamleder failed: {response.status_code}")
        session = await self.staff.get("/auth/session")
        session.raise_for_status()
        self.staff.headers["X-CSRF-Token"] = session.json()["csrf_token"]
        self._logged_in = True

    async def refer(self, case_id: str, give_up_s: float = 120) -> Referral:
        ref = Referral(case_id, f"prove-{uuid.uuid4().hex[:12]}")
        self.referrals.append(ref)
        body = {
            "department": "job_centre",
            "purpose": f"Afklaring af løntilskud ({ref.marker}).",
            "consent_to_share_contact": True,
        }
        deadline = now() + give_up_s
        while now() < deadline and not ref.created:
            ref.tries += 1
            try:
                if not self._logged_in:
                    await self._login()
                if ref.tries > 1 and await self._find(ref):
                    break  # the earlier POST was made; only its answer was lost
                response = await self.staff.post(f"/api/v1/cases/{case_id}/referrals", json=body)
                if response.status_code == 201:
                    ref.referral_id = str(response.json()["referral_id"])
                    ref.created = True
                elif response.status_code < 500:
                    ref.errors.append(f"{response.status_code} {response.text[:200]}")
                    return ref
            except (httpx.HTTPError, RuntimeError) as exc:
                ref.errors.append(type(exc).__name__)
            if not ref.created:
                await asyncio.sleep(1 + self.rng.random())
        return ref

    async def _find(self, ref: Referral) -> bool:
        response = await self.staff.get(f"/api/v1/cases/{ref.case_id}")
        if response.status_code != 200:
            raise RuntimeError(f"case {ref.case_id}: {response.status_code}")
        for referral in response.json().get("referrals", []):
            if ref.marker in str(referral.get("purpose", "")):
                ref.referral_id = str(referral["id"])
                ref.created = True
                return True
        return False

    async def answer(self, ref: Referral, give_up_s: float = 120) -> None:
        assert ref.referral_id is not None
        deadline = now() + give_up_s
        while now() < deadline:
            ref.tries += 1
            with contextlib.suppress(httpx.HTTPError):
                response = await self.department.post(
                    f"/api/v1/referrals/{ref.referral_id}/answer",
                    json={"status": "accepted"},
                    headers=DEPARTMENT_KEY,
                )
                if response.status_code == 200:
                    ref.answered = True
                    return
                if response.status_code < 500 and response.status_code != 404:
                    ref.errors.append(f"answer {response.status_code} {response.text[:200]}")
                    return
            await asyncio.sleep(1 + self.rng.random())

    async def case_of(self, inquiry_id: str) -> str | None:
        with contextlib.suppress(httpx.HTTPError, RuntimeError):
            if not self._logged_in:
                await self._login()
            response = await self.staff.get("/api/v1/cases", params={"inquiry_id": inquiry_id})
            if response.status_code == 200:
                cases = response.json()
                items = cases if isinstance(cases, list) else cases.get("items", [])
                if items:
                    return str(items[0]["id"])
        return None

    async def close(self) -> None:
        await self.staff.aclose()
        await self.department.aclose()
