"""The store's indexes as the services use them, on FerretDB over PostgreSQL.

deploy/postgres/gin_twins.sql gives each field of FerretDB's btree indexes a GIN twin
(FerretDB pushes equality down as `@>`, which only GIN serves) and leaves non-unique
btrees other than `_id` empty (partial, `WHERE false`), since no query uses them and
every write would pay for them. This checks what a service relies on: equality on every
indexed field is answered through a twin and returns the right documents after updates,
a unique index still refuses a duplicate, and FerretDB's index list and dropIndexes
still work. On MongoDB (or FerretDB over SQLite) there are no twins: skipped.

FerretDB is built to name a field in its SQL rather than bind the name as a parameter
(deploy/ferretdb/literal_keys.go), so that PostgreSQL plans a prepared statement once
and its generic plan still goes through the field's index; the second test checks the
SQL FerretDB sends and what PostgreSQL's generic plan makes of it.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from harness import MONGODB_URI, ROOT


@asynccontextmanager
async def _scratch(prefix: str) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    """A collection in a database of its own, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]["docs"]
    finally:
        await client.drop_database(name)
        await client.close()


async def _postgres_plan(
    docs: AsyncCollection[dict[str, Any]], query: dict[str, Any]
) -> dict[str, Any]:
    """PostgreSQL's plan of a find, as FerretDB's `explain` gives it; skips on any
    other store."""
    answer = await docs.database.command(
        "explain", {"find": docs.name, "filter": query}, verbosity="queryPlanner"
    )
    planner: dict[str, Any] = answer.get("queryPlanner", {})
    if '"Node Type"' not in json.dumps(planner):
        pytest.skip("not FerretDB over PostgreSQL: no GIN twins to check")
    return planner


def _indexes_in(planner: dict[str, Any]) -> list[str]:
    text = json.dumps(planner)
    assert "Seq Scan" not in text, text
    return re.findall(r'"Index Name": "([^"]+)"', text)


async def _indexes_used(docs: AsyncCollection[dict[str, Any]], query: dict[str, Any]) -> list[str]:
    return _indexes_in(await _postgres_plan(docs, query))


def _psql(*commands: str) -> str:
    """Run SQL commands in one psql session on the instance's PostgreSQL
    (`deploy/infra.sh psql`); skips where the store is not FerretDB on it."""
    args = ["bash", str(ROOT / "deploy/infra.sh"), "psql", "-qAt", "-v", "ON_ERROR_STOP=1"]
    for command in commands:
        args += ["-c", command]
    run = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if "not this instance's PostgreSQL" in run.stderr:
        pytest.skip("the store is not FerretDB on this instance's PostgreSQL")
    assert run.returncode == 0, run.stderr
    return run.stdout


def _generic_plan(prepare: str, execute: str, *settings: str) -> str:
    """The generic plan of a prepared statement, in a session with `settings` (SETs)."""
    return _psql(
        *settings,
        "SET plan_cache_mode = force_generic_plan",
        prepare,
        f"EXPLAIN (FORMAT JSON) {execute}",
    )


def _table(planner: dict[str, Any]) -> str:
    """The PostgreSQL table a FerretDB plan reads, schema-qualified."""
    plan = planner["Plan"]
    return f'"{plan["Schema"]}"."{plan["Relation Name"]}"'


async def test_equality_goes_through_the_twins_and_unique_still_holds(infra: None) -> None:
    async with _scratch("t_twins") as docs:
        await docs.create_index("a")
        await docs.create_index([("a", 1), ("b", 1)])
        await docs.create_index("u", unique=True)
        await docs.insert_many([{"_id": i, "a": i % 50, "b": i, "u": i} for i in range(1000)])

        for query in ({"a": 7}, {"b": 7}, {"u": 7}):
            used = await _indexes_used(docs, query)
            assert used, query
            assert all(re.search(r"_gin\d+$", ix) for ix in used), (query, used)

        assert await docs.count_documents({"a": 7}) == 20
        await docs.update_many({"b": {"$in": list(range(10))}}, {"$set": {"a": 7}})
        assert await docs.count_documents({"a": 7}) == 29  # 7 itself was already 7
        assert [d["_id"] for d in await docs.find({"b": 3}).to_list()] == [3]

        with pytest.raises(DuplicateKeyError):
            await docs.insert_one({"_id": "again", "a": 1, "b": 1, "u": 5})

        names = sorted([ix["name"] async for ix in await docs.list_indexes()])
        assert names == ["_id_", "a_1", "a_1_b_1", "u_1"]
        await docs.drop_index("a_1_b_1")
        await docs.drop_index("a_1")
        await docs.create_index("a")
        assert await docs.count_documents({"a": 7}) == 29
        assert await _indexes_used(docs, {"a": 7})


async def test_a_prepared_equality_is_planned_once_and_still_uses_the_twin(infra: None) -> None:
    async with _scratch("t_generic") as docs:
        await docs.create_index("a")
        await docs.insert_many([{"_id": i, "a": i % 50} for i in range(1000)])
        planner = await _postgres_plan(docs, {"a": 7})  # skips unless FerretDB on PostgreSQL
        assert _indexes_in(planner)
        table = _table(planner)

        # What FerretDB sends for the find: the field by name, the value as a parameter.
        # pg_stat_activity holds each connection's latest statement only, and FerretDB's
        # pooled connections serve every other client of the store too (the rest of the
        # suite), so the find is repeated until one is seen before it is overwritten.
        literal = f"FROM {table} WHERE _jsonb->'a' @> $1"
        sent = ""
        for _ in range(50):
            assert len(await docs.find({"a": 7}).to_list()) == 20
            sent += _psql(
                "SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                f"AND query LIKE 'SELECT %{planner['Plan']['Relation Name']}%WHERE%'"
            )
            if literal in sent:
                break
        assert literal in sent, sent
        assert "_jsonb->$" not in sent, sent
        # The server does not plan every execution again (that was the cost of binding
        # the name), and the one generic plan of that statement uses the twin ...
        assert _psql("SHOW plan_cache_mode").strip() != "force_custom_plan"
        generic = _generic_plan(
            f"PREPARE q(jsonb) AS SELECT _jsonb FROM {table} WHERE _jsonb->'a' @> $1",
            "EXECUTE q('7')",
        )
        assert re.search(r'"Index Name": "[^"]+_gin\d+"', generic), generic
        # ... where with the name as a parameter it could only scan.
        bound = _generic_plan(
            f"PREPARE q(text, jsonb) AS SELECT _jsonb FROM {table} WHERE _jsonb->$1 @> $2",
            "EXECUTE q('a', '7')",
        )
        assert '"Seq Scan"' in bound, bound


async def test_a_plan_cached_while_the_collection_was_nearly_empty_still_uses_the_twin(
    infra: None,
) -> None:
    """A connection plans a prepared statement generically once, from the statistics of
    that moment. Planned while the collection held a few documents, PostgreSQL's cheapest
    plan was a sequential scan, which stayed cached while the collection grew (routing's
    per-inquiry case lookups read every case in some bench runs: 4x the store's execution
    time). The store runs with sequential scans disabled, so that plan uses the twin."""
    async with _scratch("t_young") as docs:
        await docs.create_index("a")
        await docs.insert_many([{"_id": i, "a": i} for i in range(3)])
        table = _table(await _postgres_plan(docs, {"a": 1}))  # skips unless FerretDB on PG
        _psql(f"ANALYZE {table}")  # what autovacuum records of a young collection
        prepare = f"PREPARE q(jsonb) AS SELECT _jsonb FROM {table} WHERE _jsonb->'a' @> $1"

        assert _psql("SHOW enable_seqscan").strip() == "off"
        generic = _generic_plan(prepare, "EXECUTE q('1')")
        assert re.search(r'"Index Name": "[^"]+_gin\d+"', generic), generic
        # The same statistics with sequential scans allowed: the plan that stayed cached.
        allowed = _generic_plan(prepare, "EXECUTE q('1')", "SET enable_seqscan = on")
        assert '"Seq Scan"' in allowed, allowed
