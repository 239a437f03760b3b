"""The store keeps single-document updates atomic under concurrent writers.

The outbox (append + counter in one update), relay leases and idempotent
handlers depend on it. MongoDB guarantees it; FerretDB v1 does not by itself
(deploy/infra.sh builds it with serialised writes), so this is checked here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from harness import MONGODB_URI


@asynccontextmanager
async def four_clients() -> AsyncIterator[list[AsyncCollection[dict[str, Any]]]]:
    """One collection of a fresh database, seen through four clients (four connection
    pools, so their writes run at once); the database is dropped afterwards."""
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(MONGODB_URI) for _ in range(4)
    ]
    name = f"t_atomic_{uuid.uuid4().hex[:8]}"
    try:
        yield [client[name]["docs"] for client in clients]
    finally:
        await clients[0].drop_database(name)
        for client in clients:
            await client.close()


async def test_concurrent_updates_to_one_document_are_not_lost(infra: None) -> None:
    async with four_clients() as docs:
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


async def test_bulks_by_id_and_whole_collection_updates_lose_nothing(infra: None) -> None:
    """The store may serialise writes per document when a command names its `_id`s
    (deploy/ferretdb/): bulks naming the same documents in opposite orders must neither
    deadlock nor lose an update, and an update by another filter (any document) must not
    interleave with them."""
    ids = [f"d{n}" for n in range(6)]
    async with four_clients() as docs:
        await docs[0].insert_many([{"_id": i, "group": "g", "n": 0, "m": 0} for i in ids])

        async def bulk(i: int) -> None:
            order = ids if i % 2 == 0 else ids[::-1]
            for _ in range(10):
                await docs[i % 4].bulk_write(
                    [UpdateOne({"_id": d}, {"$inc": {"n": 1}}) for d in order], ordered=False
                )

        async def by_group(i: int) -> None:
            for _ in range(10):
                await docs[i % 4].update_many({"group": "g"}, {"$inc": {"m": 1, "n": 1}})

        async def find_and_modify(i: int) -> None:
            for k in range(10):
                await docs[i % 4].find_one_and_update(
                    {"_id": ids[k % len(ids)]}, {"$inc": {"n": 1}}
                )

        await asyncio.wait_for(
            asyncio.gather(
                *(bulk(i) for i in range(4)),
                *(by_group(i) for i in range(2)),
                *(find_and_modify(i) for i in range(3)),
            ),
            timeout=120,
        )
        found = {d["_id"]: d async for d in docs[0].find({})}
        # Per document: 4 bulks x 10, 2 group updates x 10, and its share of the
        # 3 x 10 findAndModify (round robin over the ids).
        modified = [ids[k % len(ids)] for k in range(10)] * 3
        assert {i: (found[i]["n"], found[i]["m"]) for i in ids} == {
            i: (4 * 10 + 2 * 10 + modified.count(i), 2 * 10) for i in ids
        }
