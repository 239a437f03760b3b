"""The store keeps single-document updates atomic under concurrent writers.

The outbox (append + counter in one update), relay leases and idempotent
handlers depend on it. MongoDB guarantees it; FerretDB v1 does not by itself
(deploy/infra.sh builds it with serialised writes), so this is checked here.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pymongo import AsyncMongoClient

from harness import MONGODB_URI


async def test_concurrent_updates_to_one_document_are_not_lost(infra: None) -> None:
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(MONGODB_URI) for _ in range(4)
    ]
    name = f"t_atomic_{uuid.uuid4().hex[:8]}"
    docs = [client[name]["docs"] for client in clients]
    try:
        await docs[0].insert_one({"_id": "one", "n": 0, "items": []})

        async def writer(i: int) -> None:
            for k in range(25):
                await docs[i % 4].update_one(
                    {"_id": "one"}, {"$inc": {"n": 1}, "$push": {"items": f"{i}-{k}"}}
                )

        await asyncio.gather(*(writer(i) for i in range(8)))
        doc = await docs[0].find_one({"_id": "one"})
        assert doc is not None
        assert doc["n"] == 200
        assert len(set(doc["items"])) == 200

        for round_ in range(10):
            await docs[0].insert_one({"_id": f"claim-{round_}", "owner": None})

            async def claim(i: int, key: str = f"claim-{round_}") -> int:
                result = await docs[i % 4].update_one(
                    {"_id": key, "owner": None}, {"$set": {"owner": i}}
                )
                return result.modified_count

            assert sum(await asyncio.gather(*(claim(i) for i in range(4)))) == 1
    finally:
        await clients[0].drop_database(name)
        for client in clients:
            await client.close()
