"""`indgang-reporting-rebuild` (`make rebuild-reports`): forget the read model and read
every topic again from the start.

Drops the read model's collections and deletes reporting's consumer groups (one per
topic), so the next start reads each topic from its earliest retained record
(`auto_offset_reset=earliest`) and the merges build the same documents again. Kafka
refuses to delete a group that has members: stop reporting first (the Makefile target
does). What was deleted from the topics by retention cannot come back — see the README.
"""

from __future__ import annotations

import asyncio
import sys

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
    """Returns the consumer groups deleted."""
    groups = [consumer_group(settings, settings.topic(topic_for(m))) for m in CONSUMED]
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        **client_options(settings),
    )
    await admin.start()
    try:
        existing = {g[0] for g in await admin.list_consumer_groups()}
        doomed = [g for g in groups if g in existing]
        if doomed:
            await admin.delete_consumer_groups(doomed)
    finally:
        await admin.close()
    client = mongo.connect(settings.mongodb_uri)
    try:
        await FactStore(client[settings.mongodb_database]).drop()
    finally:
        await client.close()
    return doomed


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
        f"read model dropped; consumer groups deleted: {len(deleted)}. Start reporting "
        "(bash deploy/services.sh up reporting) and it reads every topic from the start."
    )
