"""Intake's test fixtures. Lets intake's test modules share `intake_helpers` and
`store_helpers` (pytest runs with --import-mode=importlib, which does not put test
directories on sys.path)."""

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

sys.path.insert(0, str(Path(__file__).parent))

from store_helpers import MONGODB_URI, POLICY, T0

from indgang_intake.adapters.inquiries import InquiryRepository


@pytest.fixture
async def db(infra: None) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    name = f"t_store_{uuid.uuid4().hex[:8]}_intake"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    yield client[name]
    await client.drop_database(name)
    await client.close()


@pytest.fixture
async def repo(db: AsyncDatabase[dict[str, Any]]) -> InquiryRepository:
    repository = InquiryRepository(db, POLICY, clock=lambda: T0)
    await repository.prepare()
    await repository.schedule.reschedule(T0)  # the retention job's first round
    return repository
