"""`indgang-reporting-rebuild` (`make rebuild-reports`): forget the read model and read
every topic again from the start.

Drops the read model's collections and sets each of reporting's consumer groups (one
per topic) back to the earliest retained record of every partition, so the next start
reads each topic from its start and the merges build the same documents again. Kafka
refuses to commit for a group that has members: stop reporting first (the Makefile
target does). What was deleted from the topics by retention cannot come back — see the README.
"""

from __future__ import annotations

import asyncio
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from indgang_contracts.topics import topic_for
from indgang_reporting.adapters.facts import FactStore
from indgang_reporting.entrypoints.kafka import CONSUMED
from indgang_reporting.settings import ReportingSettings
from indgang_runtime import mongo
from indgang_runtime.kafka_security import client_options
from indgang_runtime.messaging import consumer_group
from indgang_runtime.settings import settings_or_exit


async def rebuild(settings: ReportingSettings) -> list[str]:
    """Returns the consumer groups set back to the start."""
    bootstrap = [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]
    topics = {settings.topic(topic_for(model)) for model in CONSUMED}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(settings))
    await admin.start()
    try:
        described = await admin.describe_topics(sorted(topics))
    finally:
        await admin.close()
    groups: list[str] = []
    for found in described:
        partitions = [TopicPartition(found["topic"], p["partition"]) for p in found["partitions"]]
        if not partitions:
            continue  # not created yet: nothing to read again
        group = consumer_group(settings, found["topic"])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            **client_options(settings),
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            starts = await consumer.beginning_offsets(partitions)
            await consumer.commit(dict(starts))  # refused while the group has members
            groups.append(group)
        finally:
            await consumer.stop()
    client = mongo.connect(settings.mongodb_uri)
    try:
        await FactStore(client[settings.mongodb_database]).drop()
    finally:
        await client.close()
    return groups


def main() -> None:
    settings = settings_or_exit(ReportingSettings)
    try:
        deleted = asyncio.run(rebuild(settings))
    except Exception as exc:
        print(
            f"rebuild failed ({type(exc).__name__}: {exc}). Is reporting still running? "
            "Stop it first (bash deploy/services.sh down reporting).",
            file=sys.stderr,
        )
        raise SystemExit(1) from exc
    print(
        f"read model dropped; {len(deleted)} consumer groups set back to the start. Start "
        "reporting "
        "(bash deploy/services.sh up reporting) and it reads every topic from the start."
    )
