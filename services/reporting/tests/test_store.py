"""The read model in the real store: the same documents as the pure merges, nothing
written for an event applied again, and a decline's reason removed three years on."""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from reporting_history import HISTORY

from indgang_reporting.adapters.facts import FactStore
from indgang_reporting.domain.facts import COLLECTIONS, FactBook


async def _stored(db: AsyncDatabase[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for name in COLLECTIONS:
        async for doc in db[name].find({}):
            doc.pop("rev")
            found[(name, str(doc["_id"]))] = doc
    return found


async def test_the_store_holds_what_the_pure_merges_give_and_a_replay_writes_nothing(
    fresh_db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = FactStore(fresh_db)
    await store.ensure_indexes()
    assert await store.record(HISTORY) > 0
    book = FactBook()
    for event in HISTORY:
        book.record(event)
    assert await _stored(fresh_db) == book.docs
    # One event at a time, as redelivered: nothing changes, nothing is written.
    for event in HISTORY:
        assert await store.record([event]) == 0
    assert await _stored(fresh_db) == book.docs


async def test_a_declines_reason_is_removed_three_years_after_the_answer(
    fresh_db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = FactStore(fresh_db)
    await store.ensure_indexes()
    await store.record(HISTORY)
    assert await store.purge_reasons(date(2029, 10, 31)) == 0
    assert await store.purge_reasons(date(2029, 11, 1)) == 1  # declined 15 Nov 2026
    r2 = await fresh_db["referrals"].find_one({"_id": "r2"})
    assert r2 is not None
    assert "reason" not in r2["answers"]["declined"]
    assert r2["status"] == "declined"  # the figure stays
    assert await store.purge_reasons(date(2030, 1, 1)) == 0
