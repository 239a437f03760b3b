"""Composition root: builds reporting from its settings. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from indgang_reporting.adapters.facts import FactStore
from indgang_reporting.entrypoints.kafka import build_router
from indgang_reporting.handlers.projector import Projector
from indgang_reporting.settings import ReportingSettings
from indgang_reporting.web import api, pages
from indgang_reporting.web.access import reader
from indgang_reporting.web.pages import TRANSLATIONS
from indgang_reporting.web.selection import today
from indgang_runtime.messaging import EventConsumer
from indgang_runtime.openapi import REPORTS_KEY, STAFF, document_api
from indgang_runtime.service import Runtime, build_app, repeat, serve
from indgang_runtime.settings import settings_or_exit
from indgang_runtime.web import install_pages

log = structlog.get_logger(__name__)
PAGES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    settings.check_production()  # ENVIRONMENT=production: refuse unsafe settings first
    runtime = Runtime.connect(settings)
    broker, db = runtime.broker, runtime.db
    facts = FactStore(db)
    broker.include_router(build_router(settings, Projector(facts), EventConsumer(broker, settings)))

    async def purge_once() -> None:
        removed = await facts.purge_reasons(today())
        if removed:
            log.info("decline_reasons_removed", count=removed)

    async def purge_reasons() -> None:
        await repeat(purge_once, settings.purge_interval_seconds, "decline_reasons_purge")

    runtime.configure(on_startup=[facts.ensure_indexes], background=[purge_reasons])
    app = build_app(
        runtime,
        title="indgang reporting",
        description="What one entrance achieves — inquiries by door, first contact against "
        "the deadline, referrals and their answers, closings, social value — from a read "
        "model fed only by events. JSON for BI tools: `/api/v1/reports/*`.",
        routers=[api.router, pages.router],
    )
    app.state.settings = settings
    app.state.facts = facts
    install_pages(app, settings, PAGES, TRANSLATIONS, staff=True, csrf=True)
    app.mount("/assets/reporting", StaticFiles(directory=STATIC), name="reporting")
    document_api(app, schemes={reader: (REPORTS_KEY, *STAFF)})
    return app


def main() -> None:
    settings = settings_or_exit(ReportingSettings)  # invalid or unsafe: exit 2, what to fix
    serve(create_app(settings), settings)
