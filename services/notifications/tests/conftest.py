"""A fresh database of its own on the real store for each store test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from harness import MONGODB_URI


@pytest.fixture
async def fresh_db(infra: None, run_id: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    name = f"t_{run_id}_notif_{uuid.uuid4().hex[:6]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()
