"""Topic names: one topic per event type, the major version in the name.

Additive changes keep the topic; a breaking change adds a `.v2` topic and both
are published for a while.
"""

from __future__ import annotations

from dataclasses import dataclass

from indgang_contracts.events import EVENT_TYPES, Event


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    description: str


def topic_for(event: type[Event]) -> str:
    """The topic an event type is published on, e.g. 'indgang.inquiry-received.v1'."""
    return f"indgang.{event.EVENT_NAME}.v{event.EVENT_VERSION}"


# Undecodable or schema-invalid records land here with the reason in headers.
DEAD_LETTER_TOPIC = "indgang.dead-letter.v1"

# Inquiries are keyed by organisation, cases by case id; six partitions let up to
# six instances of a service share the load while keeping per-key order.
TOPICS: tuple[Topic, ...] = (
    *(Topic(topic_for(model), 6, (model.__doc__ or "").strip()) for model in EVENT_TYPES.values()),
    Topic(DEAD_LETTER_TOPIC, 3, "Records a consumer could not decode or validate."),
)
