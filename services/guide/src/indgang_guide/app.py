"""Composition root: builds the guide from its settings. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

import structlog
from fastapi import FastAPI

from indgang_guide.adapters.content_files import load_content
from indgang_guide.adapters.store import GuideStore
from indgang_guide.entrypoints.kafka import build_router
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import Editing
from indgang_guide.settings import GuideSettings
from indgang_guide.web import api, pages
from indgang_guide.web.api import staff_reader
from indgang_guide.web.pages.rendering import guide_values
from indgang_guide.web.texts import TEXTS
from indgang_runtime.messaging import EventConsumer, outbox_relay
from indgang_runtime.openapi import ANONYMOUS, GUIDE_READER_KEY, STAFF, document_api
from indgang_runtime.pages import Translations
from indgang_runtime.service import Runtime, build_app, repeat, serve
from indgang_runtime.settings import settings_or_exit
from indgang_runtime.web import install_pages

log = structlog.get_logger(__name__)
_TEMPLATES = Path(__file__).parent / "templates"


def create_app(settings: GuideSettings | None = None) -> FastAPI:
    settings = settings or GuideSettings()
    settings.check_production()  # ENVIRONMENT=production: refuse unsafe settings first
    content = load_content(settings.content_dir)  # invalid content stops start-up, loudly
    runtime = Runtime.connect(settings)
    broker, db = runtime.broker, runtime.db
    store = GuideStore(db)
    catalogue = Catalogue(store)
    relay = outbox_relay(settings, broker, [store.outbox])
    editing = Editing(store, catalogue, settings.municipality_code, settings.event_source)
    broker.include_router(build_router(settings, store, catalogue, EventConsumer(broker, settings)))

    async def load_into_store() -> None:
        await store.ensure_indexes()
        await editing.load_files(content)

    async def follow_other_instances() -> None:
        await repeat(
            catalogue.refresh_if_changed, settings.catalogue_refresh_seconds, "catalogue_refresh"
        )

    runtime.configure(
        relay=relay,
        on_startup=[load_into_store],
        background=[follow_other_instances],
    )
    app = build_app(
        runtime,
        title="indgang guide",
        description="The internal guide: where help for social-economy enterprises can be found.",
        routers=[api.router, pages.router],
    )
    # What the routers' dependencies read (web/dependencies.py).
    app.state.settings = settings
    app.state.store = store
    app.state.catalogue = catalogue
    app.state.editing = editing
    install_pages(
        app, settings, _TEMPLATES, Translations(TEXTS), extra=guide_values(catalogue), staff=True
    )
    # Entries for the public to anyone; the internal ones to staff and routing's key.
    document_api(app, schemes={staff_reader: (ANONYMOUS, *STAFF, GUIDE_READER_KEY)})
    return app


def main() -> None:
    settings = settings_or_exit(GuideSettings)  # invalid or unsafe: exit 2, what to fix
    serve(create_app(settings), settings)
