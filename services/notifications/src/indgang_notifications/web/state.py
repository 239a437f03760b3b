"""What the web layer uses, read from `app.state`, where `create_app` put it.

The routers are module-level and built once; a route names what it needs with
one of these `Annotated` aliases (`indgang_runtime.web.from_state`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.delivery_log import DeliveryLog
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.handlers.sending import Sender
from indgang_notifications.settings import NotificationSettings
from indgang_runtime.web import from_state

Settings = Annotated[NotificationSettings, Depends(from_state("settings", NotificationSettings))]
Deliveries = Annotated[DeliveryRepository, Depends(from_state("deliveries", DeliveryRepository))]
Log = Annotated[DeliveryLog, Depends(from_state("delivery_log", DeliveryLog))]
Subscriptions = Annotated[
    SubscriptionRepository, Depends(from_state("subscriptions", SubscriptionRepository))
]
# Tells the sender that deliveries became due (a resend): `sender.kick()` sweeps now.
SenderDep = Annotated[Sender, Depends(from_state("sender", Sender))]
