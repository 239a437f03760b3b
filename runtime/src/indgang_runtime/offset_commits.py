"""A subscriber's offsets committed together, a few times a second, not once per poll.

Committing after every handled poll meant one OffsetCommit request per poll and per
subscriber — at 25 inquiries/s most polls hold one record, and each event is
consumed by several subscribers — and each commit was awaited before the next poll,
so the next record waited for it. Now a handled poll only notes where its records'
partitions may resume, and one commit every `kafka_commit_interval_ms` carries all
that was noted since.

The guarantee stays: nothing is noted before its work is stored, so nothing is
committed before it either. What a crash can now redeliver grows by at most one
interval's records, and every handler takes redelivery (idempotent on the
CloudEvent id). What is noted is committed before the consumer gives its partitions
up in a rebalance and before it stops, so a restart or a rebalance re-reads nothing
extra. A commit that fails (the group rebalanced meanwhile) is dropped: the
partitions' new owner resumes from the last commit that went through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

log = structlog.get_logger(__name__)

# How long stopping waits for the last commit (aiokafka retries a broker that is away).
STOP_WAIT_SECONDS = 5.0


class OffsetCommits(ConsumerRebalanceListener):  # type: ignore[misc]
    """Noted offsets of one subscriber's consumer, committed every `interval` seconds.

    Also its rebalance listener: what is noted is committed before partitions go."""

    def __init__(self, interval: float, subscription: str) -> None:
        self.interval = interval
        self._subscription = subscription
        self._consumer: AIOKafkaConsumer | None = None
        self._noted: dict[TopicPartition, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def note(self, consumer: AIOKafkaConsumer, records: Iterable[Any]) -> None:
        """The records' work is stored: their partitions may resume after them."""
        if consumer is not self._consumer:
            # A restarted subscriber's new consumer: the old one flushed when it stopped.
            self._consumer, self._noted = consumer, {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self._noted[partition] = max(self._noted.get(partition, 0), record.offset + 1)
        if self._timer is None and (self._flushing is None or self._flushing.done()):
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._due)

    def _due(self) -> None:
        self._timer = None
        self._flushing = asyncio.ensure_future(self.flush())

    async def flush(self) -> None:
        """Commit what is noted now (for the partitions still assigned)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._lock:
            consumer, noted, self._noted = self._consumer, self._noted, {}
            if consumer is None or not noted:
                return
            assigned = consumer.assignment()
            # A partition given up meanwhile is its new owner's: committing it would fail.
            offsets = {tp: offset for tp, offset in noted.items() if tp in assigned}
            if not offsets:
                return
            try:
                await consumer.commit(offsets)
            except KafkaError as exc:
                # CommitFailedError (rebalanced) or IllegalStateError (not assigned any
                # more): the records are redelivered to whoever owns them now, which
                # every handler is built for.
                log.warning(
                    "offsets_not_committed",
                    subscription=self._subscription,
                    error=type(exc).__name__,
                )
        if self._noted and self._timer is None:
            # Noted while this commit ran: the next one in an interval.
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._due)

    async def stop(self) -> None:
        """Commit what is noted, waiting at most STOP_WAIT_SECONDS (the broker may be away)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), STOP_WAIT_SECONDS)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- ConsumerRebalanceListener ---------------------------------------------------

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Still the owner here: commit before the partitions move.
        await self.flush()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass
