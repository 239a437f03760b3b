"""SentRecorder: what the workers finish while one write is in flight goes into the
next write together; a lone delivery is written at once; a store failure reaches
every worker that waited on that write."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from indgang_notifications.handlers.recording import SentRecorder

Document = dict[str, Any]


class SlowStore:
    """Records the batches it is given; each write waits until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def write(self, docs: Sequence[Document]) -> int:
        self.batches.append([d["_id"] for d in docs])
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return len(docs)


async def test_a_lone_delivery_is_written_at_once() -> None:
    store = SlowStore()
    store.release.set()
    await SentRecorder(store.write).record({"_id": "d1"})
    assert store.batches == [["d1"]]


async def test_deliveries_finished_during_a_write_share_the_next_one() -> None:
    store = SlowStore()
    recorder = SentRecorder(store.write)
    first = asyncio.create_task(recorder.record({"_id": "d1"}))
    await asyncio.sleep(0.01)  # d1's write is in flight
    others = [asyncio.create_task(recorder.record({"_id": f"d{n}"})) for n in range(2, 6)]
    await asyncio.sleep(0.01)
    assert not first.done()
    store.release.set()
    await asyncio.gather(first, *others)
    assert store.batches == [["d1"], ["d2", "d3", "d4", "d5"]]


async def test_a_store_failure_reaches_every_worker_of_that_write() -> None:
    store = SlowStore()
    store.fail = ConnectionError("store away")
    recorder = SentRecorder(store.write)
    waiting = [asyncio.create_task(recorder.record({"_id": f"d{n}"})) for n in range(3)]
    await asyncio.sleep(0.01)
    store.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    # The recorder still works once the store is back.
    store.fail = None
    await recorder.record({"_id": "later"})
    assert store.batches[-1] == ["later"]


async def test_a_worker_cancelled_while_waiting_does_not_cancel_the_shared_write() -> None:
    store = SlowStore()
    recorder = SentRecorder(store.write)
    cancelled = asyncio.create_task(recorder.record({"_id": "d1"}))
    kept = asyncio.create_task(recorder.record({"_id": "d2"}))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    store.release.set()
    await kept
    await recorder.close()
    assert store.batches == [["d1", "d2"]]
