"""What a subscription registered through the API must also satisfy: a webhook URL
that reaches a public address (resolved now; the sender checks again at every send),
and in production a secret that is neither public nor short, as for the file."""

from __future__ import annotations

from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.webhooks import checked_addresses
from indgang_notifications.domain.subscriptions import Subscription
from indgang_notifications.settings import NotificationSettings
from indgang_runtime.settings import MIN_SECRET_LENGTH, is_development_secret


async def registration_problems(
    subscription: Subscription, settings: NotificationSettings
) -> list[tuple[str, str]]:
    """(field, message) for each problem; none for an e-mail subscription."""
    if subscription.channel != "webhook":
        return []
    problems: list[tuple[str, str]] = []
    try:
        await checked_addresses(
            subscription.url or "",
            allow_plain_http=settings.webhook_allow_plain_http,
            allowed=settings.webhook_networks,
        )
    except SendFailed as exc:
        # A name that does not resolve yet may still be registered (the receiver may
        # come later); one that resolves inside, or a bad URL, may not.
        if exc.permanent:
            problems.append(("url", exc.error))
    secret = subscription.secret or ""
    if settings.environment == "production" and (
        is_development_secret(secret) or len(secret) < MIN_SECRET_LENGTH
    ):
        problems.append(
            (
                "secret",
                "a development, example or short secret: use a random value of at "
                f"least {MIN_SECRET_LENGTH} characters",
            )
        )
    return problems
