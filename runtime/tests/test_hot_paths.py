"""The explain check itself: it recognises an index on the real store, and a scan."""

from __future__ import annotations

from typing import Any

import pytest

from indgang_runtime.hot_paths import HotQuery, explain_all, uses_index
from indgang_runtime.outbox import RELAY_QUERIES, OutboxCollection

from fake_store import FakeDatabase


async def test_the_relays_queries_are_answered_through_an_index(db: Any) -> None:
    if isinstance(db, FakeDatabase):
        pytest.skip("explain needs the real store")
    things = OutboxCollection(db["things"])
    await things.ensure_indexes()
    results = await explain_all(db, RELAY_QUERIES, ["things"])
    assert len(results) == 2
    assert all(r.indexed for r in results), [r.plan for r in results]


async def test_a_query_on_an_unindexed_field_is_reported_as_a_scan(db: Any) -> None:
    if isinstance(db, FakeDatabase):
        pytest.skip("explain needs the real store")
    await db["things"].create_index("indexed")
    indexed = HotQuery("things", "indexed field", indexed="x")
    unindexed = HotQuery("things", "unindexed field", unindexed="x")
    by_id = HotQuery("things", "by id", _id="x")
    results = {r.query.purpose: r for r in await explain_all(db, [indexed, unindexed, by_id])}
    assert results["indexed field"].indexed, results["indexed field"].plan
    assert results["by id"].indexed, results["by id"].plan
    assert not results["unindexed field"].indexed, results["unindexed field"].plan


def test_only_top_level_scalar_equality_can_be_declared() -> None:
    with pytest.raises(ValueError, match="top-level"):
        HotQuery("cases", "dotted", **{"referrals.id": "x"})
    with pytest.raises(ValueError, match="scalar"):
        HotQuery("cases", "range", due={"$lt": "2026-01-01"})
    query = HotQuery("cases", "open case", open_slot="org")
    assert query.filter(open_slot="cvr:1") == {"open_slot": "cvr:1"}
    with pytest.raises(ValueError, match="filter by"):
        query.filter(organisation_key="cvr:1")
    with pytest.raises(TypeError):
        query.filter(open_slot=None)


def test_the_verdicts_of_each_store_are_read_correctly() -> None:
    mongo_ix = {
        "queryPlanner": {"winningPlan": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN"}}}
    }
    mongo_scan = {"queryPlanner": {"winningPlan": {"stage": "COLLSCAN"}}}
    pg_ix = {
        "filterPushdown": True,
        "queryPlanner": {
            "Plan": {"Node Type": "Bitmap Heap Scan", "Plans": [{"Node Type": "Bitmap Index Scan"}]}
        },
    }
    pg_scan = {"filterPushdown": True, "queryPlanner": {"Plan": {"Node Type": "Seq Scan"}}}
    assert uses_index(mongo_ix) == (True, "MongoDB")
    assert uses_index(mongo_scan) == (False, "MongoDB")
    assert uses_index(pg_ix) == (True, "FerretDB/PostgreSQL")
    assert uses_index(pg_scan) == (False, "FerretDB/PostgreSQL")
