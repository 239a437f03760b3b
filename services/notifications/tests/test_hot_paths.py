"""Every hot-path query of notifications (adapters/queries.py), and the outbox relay's
on the deliveries, is answered through an index on the real store, on a fresh database
with the indexes notifications creates at start-up."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.migrations import migrate
from indgang_notifications.adapters.queries import HOT_PATHS, OUTBOX_COLLECTIONS
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_runtime.hot_paths import explain_all
from indgang_runtime.outbox import DUE_DOCUMENTS, OWN_DUE_DOCUMENTS


async def test_every_hot_path_query_is_answered_through_an_index(
    fresh_db: AsyncDatabase[dict[str, Any]],
) -> None:
    # What app.py runs at start-up, then the relay's own index.
    await migrate(fresh_db)
    deliveries = DeliveryRepository(fresh_db)
    await deliveries.ensure_indexes()
    await CaseParticipants(fresh_db).ensure_indexes()
    await SubscriptionRepository(fresh_db).ensure_indexes()
    await deliveries.outbox.ensure_indexes()

    results = await explain_all(fresh_db, HOT_PATHS, OUTBOX_COLLECTIONS)

    scans = [r.describe() for r in results if not r.indexed]
    assert scans == [], "\n".join(scans)
    assert len(results) == len(HOT_PATHS)
    assert [r.collection for r in results if r.query is DUE_DOCUMENTS] == ["deliveries"]
    assert [r.collection for r in results if r.query is OWN_DUE_DOCUMENTS] == ["deliveries"]
    assert {r.collection for r in results} == {
        "deliveries",
        "case_contacts",
        "subscriptions",
        "service_state",
    }
