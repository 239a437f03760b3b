"""Every hot-path query routing declares (`adapters/queries.py`), and the outbox relay's,
is answered through an index on the real store, with the indexes routing's startup
creates on a fresh database.

`explain_all` first fills each collection with 1,000 documents whose queried
fields hold other values, so the planner sees a collection worth an index.
"""

from __future__ import annotations

from typing import Any

import pytest

from indgang_routing.adapters.queries import HOT_PATHS, OUTBOX_COLLECTIONS, RELAY
from indgang_runtime import hot_paths
from indgang_runtime.hot_paths import explain_all


@pytest.fixture
def unique_fillers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtime's filler repeats a value every 97 documents, which the unique
    `open_slot` index refuses; each filler document gets values of its own instead."""
    monkeypatch.setattr(hot_paths, "_other", lambda name, i: f"filler-{name}-{i}")


async def test_every_hot_path_query_is_answered_through_an_index(
    routing: Any, unique_fillers: None
) -> None:
    """`routing` is a fresh database after routing's startup hooks (indexes included)."""
    await routing.app.state.runtime.relay.ensure_indexes()  # as the runtime's lifespan does
    results = await explain_all(routing.db, [*HOT_PATHS, RELAY], OUTBOX_COLLECTIONS)
    print("\n".join(r.describe() for r in results))
    assert len(results) == len(HOT_PATHS) + len(OUTBOX_COLLECTIONS)
    scanning = [r.describe() + "\n" + r.plan for r in results if not r.indexed]
    assert not scanning, "\n\n".join(scanning)
