"""What the web layer uses, read from `app.state`, where `create_app` put it.

The routers are module-level and built once; a route names what it needs with
one of these dependencies (`Annotated` aliases), each returning
`request.app.state.<thing>`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.delivery_log import DeliveryLog
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.settings import NotificationSettings


def settings_of(request: Request) -> NotificationSettings:
    settings: NotificationSettings = request.app.state.settings
    return settings


def deliveries_of(request: Request) -> DeliveryRepository:
    deliveries: DeliveryRepository = request.app.state.deliveries
    return deliveries


def delivery_log_of(request: Request) -> DeliveryLog:
    log: DeliveryLog = request.app.state.delivery_log
    return log


def subscriptions_of(request: Request) -> SubscriptionRepository:
    subscriptions: SubscriptionRepository = request.app.state.subscriptions
    return subscriptions


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def wake_sender_of(request: Request) -> Callable[[], None]:
    """Tells the sender that deliveries became due (a resend): sweep now."""
    wake: Callable[[], None] = request.app.state.wake_sender
    return wake


Settings = Annotated[NotificationSettings, Depends(settings_of)]
Deliveries = Annotated[DeliveryRepository, Depends(deliveries_of)]
Log = Annotated[DeliveryLog, Depends(delivery_log_of)]
Subscriptions = Annotated[SubscriptionRepository, Depends(subscriptions_of)]
Templates = Annotated[Jinja2Templates, Depends(templates_of)]
WakeSender = Annotated[Callable[[], None], Depends(wake_sender_of)]
