"""Composition root: builds intake from its settings. Nothing is built at import time."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.types import Scope

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.retention import RetentionPolicy
from indgang_intake.entrypoints.kafka import build_router
from indgang_intake.handlers.retention import RetentionJob
from indgang_intake.settings import IntakeSettings
from indgang_intake.web import api, public_form, staff_form, statements
from indgang_intake.web.api import (
    ApiError,
    api_error_handler,
    too_large_json,
    validation_error_handler,
)
from indgang_intake.web.guards import BodySizeLimit, BodyTooLarge, RateLimits, wants_html
from indgang_intake.web.pages import intake_values, too_large_page
from indgang_intake.web.texts import TRANSLATIONS
from indgang_runtime.auth import DepartmentKeys
from indgang_runtime.messaging import EventConsumer, outbox_relay
from indgang_runtime.openapi import document_api
from indgang_runtime.service import Runtime, build_app, serve
from indgang_runtime.settings import settings_or_exit
from indgang_runtime.web import install_pages

TEMPLATES = Path(__file__).parent / "templates"


async def _no_access_log() -> None:
    """The privacy notice promises that client IP addresses are not stored: no access log.

    `serve()` asks uvicorn for none, but the shared logging set-up (run in the
    lifespan, after uvicorn's) routes uvicorn.access to stdout again.
    """
    logging.getLogger("uvicorn.access").disabled = True


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    settings.check_production()  # ENVIRONMENT=production: refuse unsafe settings first
    runtime = Runtime.connect(settings)
    broker, db = runtime.broker, runtime.db
    policy = RetentionPolicy.of(
        days_after_close=settings.retention_days_after_close,
        days_max=settings.retention_days_max,
        idempotency_hours=settings.idempotency_retention_hours,
    )
    repository = InquiryRepository(db, policy)
    idempotency = IdempotencyStore(db)
    broker.include_router(build_router(settings, repository, EventConsumer(broker, settings)))

    relay = outbox_relay(settings, broker, [repository.outbox])
    retention = RetentionJob(
        repository, idempotency, interval_seconds=settings.retention_interval_seconds
    )
    runtime.configure(
        relay=relay,
        on_startup=[_no_access_log, repository.prepare, idempotency.prepare],
        background=[retention.run],
    )
    limits = RateLimits(settings.rate_limit_public, settings.rate_limit_department)
    app = build_app(
        runtime,
        title="indgang intake",
        description="Every inquiry to the municipality's one entrance, whichever door it used. "
        "The public form is at `/`; this document describes the JSON API.",
        routers=[api.router, public_form.router, statements.router, staff_form.router],
    )
    # What the routers' dependencies read (web/state.py).
    app.state.settings = settings
    app.state.repository = repository
    app.state.idempotency = idempotency
    app.state.limits = limits
    app.state.department_keys = DepartmentKeys(settings.api_keys_file)
    app.state.retention = retention
    install_pages(app, settings, TEMPLATES, TRANSLATIONS, extra=intake_values(settings), staff=True)

    def too_large(scope: Scope) -> Response:
        if wants_html(scope):
            return too_large_page(Request(scope), settings)
        return too_large_json(scope, settings.max_body_bytes)

    async def on_too_large(request: Request, exc: Exception) -> Response:
        return too_large(request.scope)

    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, render=too_large)
    # Public by design: an inquiry's status, by its id that nobody can guess.
    document_api(app, public={"/api/v1/inquiries/{inquiry_id}/status"})
    return app


def main() -> None:
    settings = settings_or_exit(IntakeSettings)  # invalid or unsafe: exit 2, what to fix
    serve(create_app(settings), settings)
