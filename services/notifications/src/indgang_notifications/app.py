"""Composition root: builds notifications from its settings. Nothing is built at import time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import structlog
from fastapi import FastAPI

from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.delivery_log import DeliveryLog
from indgang_notifications.adapters.departments import load_departments
from indgang_notifications.adapters.migrations import migrate
from indgang_notifications.adapters.smtp import SmtpSender
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.templates import MessageTemplates
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.entrypoints.kafka import build_router
from indgang_notifications.handlers.notify import Planner
from indgang_notifications.handlers.sending import Sender
from indgang_notifications.settings import NotificationSettings
from indgang_notifications.web import api, pages
from indgang_notifications.web.access import admin, delivery_scope
from indgang_notifications.web.pages import TRANSLATIONS
from indgang_runtime.messaging import EventConsumer, outbox_relay, publish_record
from indgang_runtime.openapi import ADMIN_KEY, STAFF, document_api
from indgang_runtime.service import Runtime, build_app, repeat, serve
from indgang_runtime.settings import settings_or_exit
from indgang_runtime.web import install_pages

log = structlog.get_logger(__name__)
PAGES = Path(__file__).parent / "templates"  # the pages in notifications/, the mails in mail/


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    settings.check_production()  # ENVIRONMENT=production: refuse unsafe settings first
    runtime = Runtime.connect(settings)
    broker, db = runtime.broker, runtime.db
    deliveries = DeliveryRepository(
        db,
        retention=timedelta(days=settings.delivery_retention_days),
        longest=timedelta(days=settings.delivery_max_retention_days),
    )
    delivery_log = DeliveryLog(deliveries.collection)
    parties = CaseParticipants(db, timedelta(days=settings.delivery_max_retention_days))
    subscriptions = SubscriptionRepository(db)
    templates = MessageTemplates(
        settings.templates_dir,
        defaults={
            "municipality_name": settings.municipality_name,
            "routing_url": settings.routing_public_url,
            "first_contact_working_days": settings.first_contact_working_days,
        },
    )
    # Delivery outcomes leave through the deliveries' own outbox.
    relay = outbox_relay(settings, broker, [deliveries.outbox])
    sender = Sender(
        settings,
        deliveries,
        subscriptions,
        SmtpSender(settings),
        WebhookSender(
            settings.webhook_timeout_seconds,
            settings.webhook_allow_plain_http,
            user_agent="indgang-notifications/1",
            allowed=settings.webhook_networks,
        ),
        publish=partial(publish_record, broker, settings.kafka_topic_prefix),
    )
    planner = Planner(
        settings,
        deliveries,
        parties,
        subscriptions,
        templates,
        load_departments(settings.departments_file),
        sender,
    )
    broker.include_router(build_router(settings, planner, EventConsumer(broker, settings)))

    async def load_subscriptions() -> None:
        await subscriptions.load_file(settings.subscriptions_file)

    async def migrate_store() -> None:
        await migrate(db)

    async def forget_expired_contacts() -> None:
        now = datetime.now(UTC)
        forgotten = await parties.forget_expired(now)
        if forgotten:
            log.info("case_contacts_deleted", count=forgotten)
        anonymised = await deliveries.anonymise_expired(now)
        if anonymised:
            log.info("deliveries_anonymised", count=anonymised)

    async def forget_closed_cases() -> None:
        await repeat(
            forget_expired_contacts, settings.purge_interval_seconds, "case_contacts_purge"
        )

    runtime.configure(
        relay=relay,
        on_startup=[
            migrate_store,
            deliveries.ensure_indexes,
            parties.ensure_indexes,
            subscriptions.ensure_indexes,
            load_subscriptions,
        ],
        background=[sender.run, forget_closed_cases],
    )
    app = build_app(
        runtime,
        title="indgang notifications",
        description="E-mails and signed webhooks for every party, each sent exactly once; "
        "the delivery log and subscriptions.",
        routers=[api.router, pages.router],
    )
    # What the routers' dependencies read (web/state.py).
    app.state.settings = settings
    app.state.deliveries = deliveries
    app.state.delivery_log = delivery_log
    app.state.subscriptions = subscriptions
    app.state.sender = sender
    install_pages(app, settings, PAGES, TRANSLATIONS, staff=True, csrf=True)
    document_api(app, schemes={admin: (ADMIN_KEY, *STAFF), delivery_scope: (ADMIN_KEY, *STAFF)})
    return app


def main() -> None:
    settings = settings_or_exit(NotificationSettings)  # invalid or unsafe: exit 2, what to fix
    serve(create_app(settings), settings)
