"""OutcomesInFlight: a worker's outcomes run in the background, at most `limit` at a
time; a failed one reaches the worker once (it backs off), a later success means the
store answers again; stopping waits for all of them."""

from __future__ import annotations

import asyncio

import pytest

from indgang_notifications.handlers.recording import OutcomesInFlight


async def outcome(release: asyncio.Event, failure: Exception | None = None) -> None:
    await release.wait()
    if failure is not None:
        raise failure


async def test_at_the_limit_the_worker_waits_for_one_to_finish() -> None:
    releases = [asyncio.Event() for _ in range(3)]
    outcomes = OutcomesInFlight(limit=3)
    for release in releases:
        outcomes.start(outcome(release))
    room = asyncio.create_task(outcomes.room())
    await asyncio.sleep(0.01)
    assert not room.done()
    releases[1].set()
    await asyncio.wait_for(room, timeout=1)
    for release in releases:
        release.set()
    await outcomes.settle()


async def test_a_failure_reaches_the_worker_once() -> None:
    release = asyncio.Event()
    outcomes = OutcomesInFlight(limit=4)
    outcomes.start(outcome(release, ConnectionError("store away")))
    release.set()
    await outcomes.settle()
    assert not outcomes.last_recorded
    with pytest.raises(ConnectionError):
        await outcomes.room()
    await outcomes.room()  # reported once: the worker backed off for it


async def test_a_later_success_means_the_store_answers_again() -> None:
    failing, succeeding = asyncio.Event(), asyncio.Event()
    outcomes = OutcomesInFlight(limit=4)
    outcomes.start(outcome(failing, ConnectionError("store away")))
    outcomes.start(outcome(succeeding))
    failing.set()
    await asyncio.sleep(0.01)
    succeeding.set()
    await outcomes.settle()
    assert outcomes.last_recorded
    await outcomes.room()  # nothing to back off for


async def test_settling_waits_for_every_outcome_in_flight() -> None:
    release = asyncio.Event()
    finished: list[int] = []

    async def recorded(n: int) -> None:
        await release.wait()
        finished.append(n)

    outcomes = OutcomesInFlight(limit=4)
    for n in range(3):
        outcomes.start(recorded(n))
    settling = asyncio.create_task(outcomes.settle())
    await asyncio.sleep(0.01)
    assert not settling.done()
    release.set()
    await asyncio.wait_for(settling, timeout=1)
    assert sorted(finished) == [0, 1, 2]
