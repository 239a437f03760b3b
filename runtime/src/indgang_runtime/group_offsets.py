"""Carry committed offsets over from the service's former single consumer group.

Until 2026-12 a service read all its topics in one group (`indgang-<service>`);
now each subscription has its own (`messaging.consumer_group`). A new group
would start from the earliest retained record and re-read a week of events:
handlers are idempotent, so nothing would be applied twice, but a restarted
service would spend minutes re-reading. So at start, before the consumers join,
each new group that has committed nothing yet gets the old group's committed
offsets for its topic. Later starts find the new groups' own commits and do
nothing more than one offsets request per group.

Committing for a group without joining it is what Kafka allows a consumer with a
manual assignment; the broker refuses it while the group has members (another
instance already consuming), and then this instance leaves the group alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

log = structlog.get_logger(__name__)


async def carry_over(
    bootstrap_servers: str, old_group: str, groups: Mapping[str, str], **client: Any
) -> dict[str, int]:
    """For each topic → new group in `groups` whose group has committed nothing, commit
    `old_group`'s offsets on that topic's partitions; returns partitions moved per group.
    `client`: connection options (security) for the Kafka clients."""
    bootstrap = [server.strip() for server in bootstrap_servers.split(",") if server.strip()]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client)
    await admin.start()
    moved: dict[str, int] = {}
    try:
        old = await admin.list_consumer_group_offsets(old_group)
        if not old:
            return moved
        for topic, group in groups.items():
            theirs = {
                tp: meta for tp, meta in old.items() if tp.topic == topic and meta.offset >= 0
            }
            if not theirs or await admin.list_consumer_group_offsets(group):
                continue
            moved[group] = await _commit(bootstrap, group, theirs, client)
    finally:
        await admin.close()
    if moved:
        log.info("consumer_offsets_carried_over", old_group=old_group, groups=moved)
    return moved


async def _commit(
    bootstrap: list[str],
    group: str,
    offsets: Mapping[TopicPartition, OffsetAndMetadata],
    client: Mapping[str, Any],
) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **client
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: meta.offset for tp, meta in offsets.items()})
    except Exception as exc:  # members joined meanwhile: they consume from their own start
        log.warning("consumer_offsets_not_carried_over", group=group, error=type(exc).__name__)
        return 0
    finally:
        await consumer.stop()
    return len(offsets)
