"""Use case: a submission guarded by an idempotency key returns its first answer on retry.

Follows the IETF draft "The Idempotency-Key HTTP Header Field": the same key
with another request body is refused (422), a retry while the first request
is still being processed gets 409, anything else gets the first answer again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.handlers.submit import Receipt
from indgang_runtime.messaging import retry_transient

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A claimer that has neither finished nor released its claim by then has crashed.
CLAIM_TIMEOUT = timedelta(seconds=30)

Submit = Callable[[str, str], Awaitable[Receipt]]


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request body."""


class IdempotencyInProgress(Exception):
    """The first request with this key is still being processed."""


@dataclass(frozen=True)
class Outcome:
    receipt: Receipt
    replayed: bool


def fingerprint(body: Any) -> str:
    """A request body's fingerprint, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_id(client: str, key: str) -> str:
    return f"{client}|{key}"


def _receipt(response: dict[str, Any]) -> Receipt:
    return Receipt(response["inquiry_id"], response["reference"], bool(response["follow_up"]))


async def submit_once(
    store: IdempotencyStore,
    repository: InquiryRepository,
    *,
    client: str,
    key: str,
    body_fingerprint: str,
    submit: Submit,
    now: datetime | None = None,
) -> Outcome:
    """Run `submit(inquiry_id, reference)` at most once per (client, key)."""
    now = now or datetime.now(UTC)
    rid = record_id(client, key)
    record, created = await retry_transient(lambda: store.begin(rid, body_fingerprint, now))
    if not created:
        if record["fingerprint"] != body_fingerprint:
            raise IdempotencyKeyReused
        if record["state"] == "done":
            return Outcome(_receipt(record["response"]), replayed=True)
        stored = await repository.find(record["inquiry_id"])
        if stored is not None:
            # The first attempt stored the inquiry but did not get to record its answer
            # (nor, perhaps, to note it as its organisation's latest).
            await repository.note_latest(stored)
            receipt = Receipt(stored.id, stored.reference, stored.follow_up_of is not None)
            await store.complete(rid, receipt.as_json())
            return Outcome(receipt, replayed=True)
        claimed_at = record["claimed_at"]
        if claimed_at.tzinfo is None:
            claimed_at = claimed_at.replace(tzinfo=UTC)
        if claimed_at > now - CLAIM_TIMEOUT:
            raise IdempotencyInProgress
        taken = await store.take_over(record, now)
        if taken is None:
            raise IdempotencyInProgress
        record = taken
    try:
        receipt = await submit(record["inquiry_id"], record["reference"])
    except BaseException:
        # The same inquiry id is reused by the retry, so a write that did land
        # is found, never doubled.
        with contextlib.suppress(Exception):
            await store.release(rid, EPOCH)
        raise
    await retry_transient(lambda: store.complete(rid, receipt.as_json()))
    return Outcome(receipt, replayed=False)
