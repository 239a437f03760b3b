"""The runtime's store fixture: every store test runs on the in-memory fake and on the
real store started by `deploy/infra.sh` (a database of its own per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from fake_store import FakeDatabase

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017")


@pytest.fixture(params=["memory", "store"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield FakeDatabase()
        return
    name = f"t_runtime_{uuid.uuid4().hex[:10]}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGODB_URI, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()
