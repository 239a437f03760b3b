"""Subscriptions in the store, seeded from a TOML file.

The file is read at start-up. An entry is written to the store when it is new
or when the file's version of it changed since it was last loaded; otherwise
the store's version (perhaps edited through the API) stays. So the last edit
wins, whether it was made in the file or through the API. An entry removed
from the file is removed from the store unless it was edited through the API.
"""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_notifications.adapters.queries import ACTIVE_SUBSCRIPTIONS, SUBSCRIPTION
from indgang_notifications.domain.subscriptions import Subscription

_BOOKKEEPING = ("_id", "file_digest", "source", "updated_at")


class InvalidSubscriptionsFile(ValueError):
    pass


def read_file(path: Path) -> list[tuple[Subscription, str]]:
    """The file's subscriptions with a digest of each entry."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    found = []
    for index, raw in enumerate(data.get("subscription", [])):
        try:
            subscription = Subscription.model_validate(raw)
        except ValidationError as exc:
            raise InvalidSubscriptionsFile(
                f"{path}: subscription #{index + 1} ({raw.get('id', '?')}): {exc}"
            ) from exc
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
        found.append((subscription, digest))
    return found


class SubscriptionRepository:
    """Subscriptions in the store. The planner asks for the active ones per batch of
    events, so they are kept in memory for `cache_seconds` (a change made through this
    instance shows at once, one made through another instance within that time)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], cache_seconds: float = 2.0) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["subscriptions"]
        self._cache_seconds = cache_seconds
        self._active: tuple[float, list[Subscription]] | None = None

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("active")

    async def load_file(self, path: Path) -> None:
        self._active = None
        entries = read_file(path)
        # Entries removed from the file go too, unless they were edited through the API since.
        await self.collection.delete_many(
            {"source": "file", "_id": {"$nin": [s.id for s, _ in entries]}}
        )
        for subscription, digest in entries:
            current = await self.collection.find_one(SUBSCRIPTION.filter(_id=subscription.id))
            if current is not None and current.get("file_digest") == digest:
                continue
            await self.collection.replace_one(
                {"_id": subscription.id},
                {**_stored(subscription), "file_digest": digest, "source": "file"},
                upsert=True,
            )

    async def all(self) -> list[Subscription]:
        """Every subscription, for the admin (a handful of configuration documents)."""
        return _by_id([_subscription(doc) async for doc in self.collection.find({})])

    async def active(self) -> list[Subscription]:
        """The subscriptions that get anything: what the planner matches events against."""
        now = time.monotonic()
        if self._active is not None and now - self._active[0] < self._cache_seconds:
            return self._active[1]
        found = self.collection.find(ACTIVE_SUBSCRIPTIONS.filter(active=True))
        active = _by_id([_subscription(doc) async for doc in found])
        self._active = (now, active)
        return active

    async def get(self, subscription_id: str) -> Subscription | None:
        doc = await self.collection.find_one(SUBSCRIPTION.filter(_id=subscription_id))
        return _subscription(doc) if doc else None

    async def put(self, subscription: Subscription) -> bool:
        """Create or replace (keeping the file digest); True if it was created."""
        self._active = None
        current = await self.collection.find_one(SUBSCRIPTION.filter(_id=subscription.id))
        result = await self.collection.replace_one(
            SUBSCRIPTION.filter(_id=subscription.id),
            {
                **_stored(subscription),
                "file_digest": current.get("file_digest") if current else None,
                "source": "api",
            },
            upsert=True,
        )
        return result.upserted_id is not None

    async def delete(self, subscription_id: str) -> bool:
        self._active = None
        result = await self.collection.delete_one(SUBSCRIPTION.filter(_id=subscription_id))
        return result.deleted_count == 1


def _stored(subscription: Subscription) -> dict[str, Any]:
    return {
        "_id": subscription.id,
        **subscription.model_dump(mode="json", exclude={"id"}),
        "updated_at": datetime.now(UTC),
    }


def _by_id(subscriptions: list[Subscription]) -> list[Subscription]:
    # Sorted here: the store would decode every document to sort.
    return sorted(subscriptions, key=lambda s: s.id)


def _subscription(doc: dict[str, Any]) -> Subscription:
    fields = {k: v for k, v in doc.items() if k not in _BOOKKEEPING}
    return Subscription.model_validate({"id": doc["_id"], **fields})
