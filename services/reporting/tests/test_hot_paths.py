"""Every hot-path query of reporting (adapters/queries.py) is answered through an index
on the real store, with the indexes reporting creates at start-up."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_reporting.adapters.facts import FactStore
from indgang_reporting.adapters.queries import FACT, FACT_COLLECTIONS, HOT_PATHS
from indgang_runtime.hot_paths import explain_all


async def test_every_hot_path_query_is_answered_through_an_index(
    fresh_db: AsyncDatabase[dict[str, Any]],
) -> None:
    await FactStore(fresh_db).ensure_indexes()
    # FACT ("*") is explained on every fact collection.
    results = await explain_all(fresh_db, HOT_PATHS, FACT_COLLECTIONS)
    scans = [r.describe() for r in results if not r.indexed]
    assert scans == [], "\n".join(scans)
    assert len(results) == len(HOT_PATHS) - 1 + len(FACT_COLLECTIONS)
    assert sorted(r.collection for r in results if r.query is FACT) == sorted(FACT_COLLECTIONS)
