"""Every hot-path query of the guide (adapters/queries.py) is answered through an
index on the real store, on a fresh database with the indexes the guide creates."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_guide.adapters.queries import HOT_PATHS, OUTBOX_COLLECTIONS
from indgang_guide.adapters.store import GuideStore
from indgang_runtime.hot_paths import explain_all
from indgang_runtime.outbox import DUE_DOCUMENTS, OWN_DUE_DOCUMENTS


async def test_every_hot_path_query_is_answered_through_an_index(
    fresh_db: AsyncDatabase[dict[str, Any]],
) -> None:
    await GuideStore(fresh_db).ensure_indexes()
    results = await explain_all(fresh_db, HOT_PATHS, OUTBOX_COLLECTIONS)
    scans = [r.describe() for r in results if not r.indexed]
    assert scans == [], "\n".join(scans)
    # Each declared query was explained, the relay's on the entries (the outbox).
    assert len(results) == len(HOT_PATHS)
    relay = (DUE_DOCUMENTS, OWN_DUE_DOCUMENTS)
    assert {(r.collection, r.query.purpose) for r in results if r.query in relay} == {
        ("entries", DUE_DOCUMENTS.purpose),
        ("entries", OWN_DUE_DOCUMENTS.purpose),
    }
    assert {r.collection for r in results} == {"entries", "catalogue", "recommendations"}
