"""Every hot-path query routing declares (`adapters/queries.py`), and the outbox relay's,
is answered through an index on the real store, with the indexes routing's startup
creates on a fresh database; and what the busiest of them read does not grow with
the number of open cases.

`explain_all` first fills each collection with 1,000 documents whose queried
fields hold other values, so the planner sees a collection worth an index.
"""

from __future__ import annotations

from typing import Any

import bson
import pytest

from indgang_routing.adapters.queries import HOT_PATHS, OUTBOX_COLLECTIONS, RELAY
from indgang_runtime.hot_paths import explain_all


async def test_every_hot_path_query_is_answered_through_an_index(routing: Any) -> None:
    """`routing` is a fresh database after routing's startup hooks (indexes included)."""
    await routing.app.state.runtime.relay.ensure_indexes()  # as the runtime's lifespan does
    results = await explain_all(routing.db, [*HOT_PATHS, *RELAY], OUTBOX_COLLECTIONS)
    print("\n".join(r.describe() for r in results))
    assert len(results) == len(HOT_PATHS) + len(RELAY) * len(OUTBOX_COLLECTIONS)
    scanning = [r.describe() + "\n" + r.plan for r in results if not r.indexed]
    assert not scanning, "\n\n".join(scanning)


async def test_what_an_inquiry_batch_and_an_overdue_tick_read_does_not_grow_with_open_cases(
    routing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FerretDB decodes whole documents, so an indexed query still costs what it reads.
    The team (read per inquiry batch that opens a case) keeps its size as cases open:
    loads are counters. An overdue-job tick reads no case that is not due yet: only the
    days not finished, by equality."""
    use = routing.use
    consultants = routing.db["consultants"]

    async def team_bytes() -> int:
        return sum([len(bson.encode(d)) async for d in consultants.find({"active": True})])

    await use.routing.route_inquiry(routing.inquiry(1))
    with_one_open_case = await team_bytes()
    await use.routing.route_inquiries(
        [routing.inquiry(n, organisation_key=f"email:o{n}@example.dk") for n in range(2, 62)]
    )
    assert await routing.cases.count_documents({"status": "assigned"}) == 61
    assert await team_bytes() == with_one_open_case

    read: list[int] = []
    by_day = use.ctx.cases.awaiting_first_contact

    async def counted(due_day: str) -> list[dict[str, Any]]:
        found = await by_day(due_day)
        read.append(len(found))
        return found

    monkeypatch.setattr(use.ctx.cases, "awaiting_first_contact", counted)
    assert await use.casework.overdue.report() == 0
    assert read == [0]  # yesterday's cases (it stays open): none of the 61 watched
