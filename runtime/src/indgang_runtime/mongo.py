"""The MongoDB-compatible store (MongoDB or FerretDB v1) through PyMongo's async API.

Only what both servers do is used: single-document atomic updates, unique
indexes, simple aggregation. No transactions, change streams or TTL indexes.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(uri: str) -> AsyncMongoClient[Document]:
    # Short server selection so that a store outage surfaces as an error the
    # caller can retry instead of a request hanging for 30 s.
    return AsyncMongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000
    )


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True
