"""Composition root: builds the guide from its settings. Nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI

from indgang_guide.adapters.content_files import load_content
from indgang_guide.adapters.store import GuideStore
from indgang_guide.handlers.subscriptions import build_router
from indgang_guide.settings import GuideSettings
from indgang_guide.web.api import api_router
from indgang_runtime import mongo
from indgang_runtime.messaging import EventConsumer, make_broker
from indgang_runtime.service import Runtime, build_app, serve


def create_app(settings: GuideSettings | None = None) -> FastAPI:
    settings = settings or GuideSettings()
    content = load_content(settings.content_dir)  # invalid content stops start-up, loudly
    broker = make_broker(settings)
    client = mongo.connect(settings.mongodb_uri)
    db = client[settings.mongodb_database]
    store = GuideStore(db)
    broker.include_router(build_router(settings, store, EventConsumer(broker, settings)))

    async def load_into_store() -> None:
        await store.ensure_indexes()
        await store.load(content.sections, content.entries)

    runtime = Runtime(
        settings=settings, broker=broker, client=client, db=db, on_startup=[load_into_store]
    )
    return build_app(
        runtime,
        title="indgang guide",
        description="The internal guide: where help for social-economy enterprises can be found.",
        routers=[api_router(store)],
    )


def main() -> None:
    settings = GuideSettings()
    serve(create_app(settings), settings)
