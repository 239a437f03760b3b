"""Recording "sent" in groups: the senders that finish while one write is in flight
share the next one (group commit), so eight workers cost the store about one bulk
write per round instead of one update each. Nothing waits for a timer: a lone
delivery is written at once, as before.

Only outcomes already published go this way; one whose event must go to the
delivery's outbox keeps its own single-document write (`DeliveryRepository.sent`).

Publishing and recording run in the background of the worker that sent the mail
(`OutcomesInFlight`), a bounded number at a time, so waiting for the broker's
acknowledgement and the store's write does not hold up the next mail.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import structlog

log = structlog.get_logger(__name__)
Document = dict[str, Any]
# Records these deliveries as sent; returns how many still held their claim.
WriteSent = Callable[[Sequence[Document]], Awaitable[int]]


class SentRecorder:
    def __init__(self, write: WriteSent) -> None:
        self._write = write
        self._waiting: list[tuple[Document, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, doc: Document) -> None:
        """Returns once `doc` is recorded as sent; raises what the store raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((doc, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_rounds(), name="sent-recorder")
        # Shielded: a worker cancelled while waiting must not cancel the write others share.
        await asyncio.shield(done)

    async def _write_rounds(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                recorded = await self._write([doc for doc, _ in batch])
            except Exception as exc:  # the store is away: every waiting worker backs off
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            if recorded < len(batch):
                # Claims that expired and were taken over: that sender records them.
                log.warning("delivery_claims_lost", deliveries=len(batch) - recorded)
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def close(self) -> None:
        """Stopping: let a write in flight finish (its workers are gone; the deliveries
        it records were sent)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer


class OutcomesInFlight:
    """One worker's sent deliveries whose outcome is still being published and recorded,
    each a task of its own, at most `limit` at a time. A task logs its own failure; the
    worker learns of it at its next `room()`, which raises it, so a store outage makes
    the worker back off as when it recorded the outcome itself."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None
        # Whether the outcome that finished last was recorded (the store answers): only
        # then does a sent mail end the worker's back-off.
        self.last_recorded = True

    def start(self, finishing: Coroutine[Any, Any, None]) -> None:
        """Runs `finishing` in the background, in the caller's context (its trace)."""
        task = asyncio.create_task(finishing, name="sent-outcome")
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        failure = task.exception()
        self.last_recorded = failure is None
        # A later success means the store is back: no reason to back off any more.
        self._failure = failure

    async def room(self) -> None:
        """Returns once fewer than `limit` are in flight; raises (once) what the last
        outcome that finished raised, if it failed."""
        while len(self._tasks) >= self._limit:
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    async def settle(self) -> None:
        """Stopping: waits for every outcome in flight (failures are logged by each)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))
