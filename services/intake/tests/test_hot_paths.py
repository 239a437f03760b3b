"""Every query intake runs on a hot path is answered through an index on the real store.

The indexes are the ones intake's own start-up creates (the app's start-up hooks and
its outbox relay), on a fresh database; each entry of `queries.HOT_PATHS`, and the
outbox relay's query on `inquiries`, is then explained by the store.
"""

from __future__ import annotations

import uuid
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from store_helpers import MONGODB_URI

from indgang_intake.adapters.queries import HOT_PATHS, INQUIRIES
from indgang_intake.app import create_app
from indgang_intake.settings import IntakeSettings
from indgang_runtime.hot_paths import HotQuery, explain_all
from indgang_runtime.outbox import RELAY_QUERIES

# explain_all's own filler repeats 97 values per field, which the unique index on
# `reference` refuses; so the volume comes from here (every value distinct) and
# explain_all adds only 97 documents of its own.
SEEDED = 1000
FILLER = 97


async def seed(db: AsyncDatabase[dict[str, Any]], queries: list[HotQuery]) -> None:
    fields: dict[str, set[str]] = {}
    for query in queries:
        name = INQUIRIES if query.collection == "*" else query.collection
        fields.setdefault(name, set()).update(f for f in query.fields if f != "_id")
    for name, names in fields.items():
        await db[name].insert_many(
            [
                {"_id": f"seed-{i:06d}", **{f: f"seed-{f}-{i}" for f in names}, "pad": "x" * 200}
                for i in range(SEEDED)
            ],
            ordered=False,
        )


async def test_every_hot_path_query_is_answered_through_an_index(infra: None) -> None:
    name = f"t_hot_{uuid.uuid4().hex[:8]}_intake"
    app = create_app(IntakeSettings(mongodb_uri=MONGODB_URI, mongodb_database=name))
    runtime = app.state.runtime
    queries = [*HOT_PATHS, *RELAY_QUERIES]
    try:
        # What the app's lifespan does before serving (without starting Kafka).
        for hook in runtime.on_startup:
            await hook()
        await runtime.relay.ensure_indexes()
        await seed(runtime.db, queries)
        results = await explain_all(runtime.db, queries, [INQUIRIES], filler=FILLER)
    finally:
        await runtime.client.drop_database(name)
        await runtime.client.close()
    for result in results:
        print(result.describe())
    assert {r.query for r in results} == set(queries)
    scans = [r.describe() + "\n  " + r.plan[:600] for r in results if not r.indexed]
    assert not scans, "not answered through an index:\n" + "\n".join(scans)
