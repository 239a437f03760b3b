"""Composition root: builds routing from its settings. Nothing is built at import time."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from indgang_routing.adapters.cases import CaseRepository
from indgang_routing.domain.team import Team
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.subscriptions import build_router
from indgang_routing.settings import RoutingSettings
from indgang_routing.web.api import api_router
from indgang_runtime import mongo
from indgang_runtime.messaging import EventConsumer, make_broker, publish_record
from indgang_runtime.outbox import OutboxRelay
from indgang_runtime.service import Runtime, build_app, serve


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    team = Team.load(settings.team_file)
    broker = make_broker(settings)
    client = mongo.connect(settings.mongodb_uri)
    db = client[settings.mongodb_database]
    cases = CaseRepository(db)
    relay = OutboxRelay(
        settings.service_name,
        [cases.collection],
        partial(publish_record, broker, settings.kafka_topic_prefix),
        poll_seconds=settings.outbox_poll_seconds,
    )
    routing = CaseRouting(team, cases, relay, settings)
    broker.include_router(build_router(settings, routing, EventConsumer(broker, settings)))
    runtime = Runtime(
        settings=settings,
        broker=broker,
        client=client,
        db=db,
        relay=relay,
        on_startup=[cases.ensure_indexes],
    )
    return build_app(
        runtime,
        title="indgang routing",
        description="The single point of contact: cases, their one consultant, and referrals.",
        routers=[api_router(routing)],
    )


def main() -> None:
    settings = RoutingSettings()
    serve(create_app(settings), settings)
