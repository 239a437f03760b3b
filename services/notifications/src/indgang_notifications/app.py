"""Composition root: builds notifications from its settings. Nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI

from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.smtp import SmtpSender
from indgang_notifications.adapters.templates import MessageTemplates
from indgang_notifications.handlers.notify import Notifier, load_departments
from indgang_notifications.handlers.subscriptions import build_router
from indgang_notifications.settings import NotificationSettings
from indgang_notifications.web.api import api_router
from indgang_runtime import mongo
from indgang_runtime.messaging import EventConsumer, make_broker
from indgang_runtime.service import Runtime, build_app, serve


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    broker = make_broker(settings)
    client = mongo.connect(settings.mongodb_uri)
    db = client[settings.mongodb_database]
    deliveries = DeliveryRepository(db)
    templates = MessageTemplates(
        settings.templates_dir,
        defaults={
            "municipality_name": settings.municipality_name,
            "routing_url": settings.routing_public_url,
        },
    )
    notifier = Notifier(
        deliveries, templates, SmtpSender(settings), load_departments(settings.departments_file)
    )
    broker.include_router(build_router(settings, notifier, EventConsumer(broker, settings)))
    runtime = Runtime(
        settings=settings,
        broker=broker,
        client=client,
        db=db,
        on_startup=[deliveries.ensure_indexes],
    )
    return build_app(
        runtime,
        title="indgang notifications",
        description="E-mails (and later webhooks) for every party, each sent exactly once.",
        routers=[api_router(deliveries)],
    )


def main() -> None:
    settings = NotificationSettings()
    serve(create_app(settings), settings)
