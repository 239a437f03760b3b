"""The use case: events in, facts updated (idempotent, order-independent: see
`domain.facts`). One call per poll of one topic, applied in the order received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import structlog

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event

log = structlog.get_logger(__name__)


class Facts(Protocol):
    async def record(self, events: Sequence[Event]) -> int: ...


class Projector:
    def __init__(self, facts: Facts) -> None:
        self._facts = facts

    async def on_events(self, envelopes: Sequence[Envelope[Any]]) -> None:
        changed = await self._facts.record([envelope.data for envelope in envelopes])
        log.debug("facts_recorded", events=len(envelopes), documents=changed)
