"""Composition root: builds intake from its settings. Nothing is built at import time."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from indgang_contracts.events import InquiryReceived
from indgang_contracts.topics import topic_for
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.settings import IntakeSettings
from indgang_intake.web.api import api_router
from indgang_runtime import mongo
from indgang_runtime.messaging import make_broker, publish_record
from indgang_runtime.outbox import OutboxRelay
from indgang_runtime.service import Runtime, build_app, serve


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    broker = make_broker(settings)
    client = mongo.connect(settings.mongodb_uri)
    db = client[settings.mongodb_database]
    repository = InquiryRepository(db)
    # Documents the publication for AsyncAPI; the outbox relay does the publishing.
    broker.publisher(
        topic_for(InquiryReceived), title="intake/inquiry-received", schema=InquiryReceived
    )

    relay = OutboxRelay(
        settings.service_name,
        [repository.collection],
        partial(publish_record, broker, settings.kafka_topic_prefix),
        poll_seconds=settings.outbox_poll_seconds,
    )
    runtime = Runtime(
        settings=settings,
        broker=broker,
        client=client,
        db=db,
        relay=relay,
        on_startup=[repository.ensure_indexes],
    )
    return build_app(
        runtime,
        title="indgang intake",
        description="Every inquiry to the municipality's one entrance, whichever door it used.",
        routers=[api_router(repository=repository, relay=relay, settings=settings)],
    )


def main() -> None:
    settings = IntakeSettings()
    serve(create_app(settings), settings)
