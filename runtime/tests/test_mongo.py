"""The store helpers: a unique-index violation recognised on every store, the ping
the readiness check uses, and the count of every command sent."""

from __future__ import annotations

import uuid
from typing import Any

from prometheus_client import REGISTRY
from pymongo.errors import DuplicateKeyError, OperationFailure

from indgang_runtime.mongo import as_duplicate_key, connect, ping

from harness import MONGODB_URI


def test_mongodbs_duplicate_key_is_itself() -> None:
    exc = DuplicateKeyError("E11000 duplicate key error", 11000)
    assert as_duplicate_key(exc) is exc


def test_an_update_breaking_a_unique_index_is_a_duplicate_key_on_any_store() -> None:
    answers = [
        OperationFailure("E11000 duplicate key error collection: t.cases", 11000),
        OperationFailure("UNIQUE constraint failed: cases.open_slot", 1),  # FerretDB/SQLite
        OperationFailure(  # FerretDB/PostgreSQL
            'ERROR: duplicate key value violates unique constraint "x" (SQLSTATE 23505)', 1
        ),
    ]
    for exc in answers:
        found = as_duplicate_key(exc)
        assert isinstance(found, DuplicateKeyError), exc
        assert found.code == 11000
        assert str(exc) in str(found)


def test_other_refusals_are_not_duplicates() -> None:
    assert as_duplicate_key(OperationFailure("Unknown modifier: $sett", 9)) is None
    assert as_duplicate_key(OperationFailure("not authorized on cases", 13)) is None


class Answering:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.commands: list[Any] = []

    async def command(self, name: str) -> dict[str, Any]:
        self.commands.append(name)
        if self.error is not None:
            raise self.error
        return {"ok": 1}


async def test_ping_says_whether_the_store_answers() -> None:
    up = Answering()
    assert await ping(up) is True  # type: ignore[arg-type]
    assert up.commands == ["ping"]
    assert await ping(Answering(ConnectionError("refused"))) is False  # type: ignore[arg-type]
    assert await ping(Answering(OperationFailure("unauthorized", 13))) is False  # type: ignore[arg-type]


async def test_a_store_outage_surfaces_within_seconds_not_after_thirty() -> None:
    client = connect("mongodb://127.0.0.1:1")  # nothing listens; no connection is made here
    try:
        options = client.options
        assert options.server_selection_timeout == 5
        assert options.pool_options.connect_timeout == 5
        assert client.codec_options.tz_aware
    finally:
        await client.close()


def _commands(command: str, collection: str) -> float:
    labels = {"service": "test-store", "command": command, "collection": collection}
    return REGISTRY.get_sample_value("indgang_store_commands_total", labels) or 0.0


async def test_every_command_sent_to_the_store_is_counted_by_command_and_collection() -> None:
    client = connect(MONGODB_URI, service="test-store")
    db = client[f"t_commands_{uuid.uuid4().hex[:10]}"]
    before = {
        k: _commands(*k) for k in [("insert", "cases"), ("find", "cases"), ("update", "cases")]
    }
    try:
        await db.cases.insert_one({"_id": "c1", "status": "open"})
        await db.cases.find_one({"_id": "c1"})
        await db.cases.find_one({"_id": "c2"})
        await db.cases.update_one({"_id": "c1"}, {"$set": {"status": "closed"}})
        assert _commands("insert", "cases") - before[("insert", "cases")] == 1
        assert _commands("find", "cases") - before[("find", "cases")] == 2
        assert _commands("update", "cases") - before[("update", "cases")] == 1
    finally:
        await client.drop_database(db.name)
        await client.close()
