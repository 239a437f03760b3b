"""Subscriptions: which department or system hears which events, through which channel.

A webhook subscription gets the CloudEvent itself, signed with its own secret.
An e-mail subscription gets the readable message for the event; those exist for
referrals (`referral-made`), the event departments act on by mail.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from indgang_contracts.events import (
    EVENT_TYPES,
    CaseContactChanged,
    MessageToEnterprise,
    NotificationDelivered,
    NotificationFailed,
)

# Not offered to subscribers:
# - our own delivery outcomes: a webhook about a webhook delivery would cause another
#   outcome, and so on for ever;
# - a consultant's message to the enterprise and a corrected contact person: personal
#   data (a person's words, their name, e-mail and phone) no department needs; the
#   enterprise gets the message, and notifications alone keeps the contact.
NOT_OFFERED = (NotificationDelivered, NotificationFailed, MessageToEnterprise, CaseContactChanged)
SUBSCRIBABLE: tuple[str, ...] = tuple(
    model.EVENT_NAME for model in EVENT_TYPES.values() if model not in NOT_OFFERED
)
EMAIL_EVENT_TYPES: tuple[str, ...] = ("referral-made",)

SubscriptionId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$"), Field(examples=["jobcenter"])
]


class Filter(BaseModel):
    """The event's `field` (dotted path in its data) must have one of `values`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: Annotated[str, StringConstraints(pattern=r"^[a-z_]+(\.[a-z_]+)*$")] = Field(
        description="Dotted path in the event data, e.g. 'target.department'.",
        examples=["target.department"],
    )
    values: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1, description="Accepted values, e.g. ['job_centre']."
    )


class Subscription(BaseModel):
    """One subscriber: a department mailbox or a department system's webhook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SubscriptionId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    event_types: list[str] = Field(
        min_length=1, description=f"Event names, from: {', '.join(SUBSCRIBABLE)}."
    )
    channel: Literal["email", "webhook"]
    email: EmailStr | None = Field(default=None, description="The mailbox (channel email).")
    url: str | None = Field(
        default=None, max_length=2000, description="HTTPS endpoint (channel webhook)."
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Shared secret for the signature (channel webhook); never shown again.",
    )
    language: Literal["da", "en"] = Field(default="da", description="Language of e-mails.")
    filters: list[Filter] = Field(default_factory=list)
    active: bool = True

    @model_validator(mode="after")
    def _channel_is_complete(self) -> Subscription:
        unknown = [t for t in self.event_types if t not in SUBSCRIBABLE]
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown)}")
        if self.channel == "email":
            if not self.email:
                raise ValueError("an e-mail subscription needs 'email'")
            other = [t for t in self.event_types if t not in EMAIL_EVENT_TYPES]
            if other:
                raise ValueError(
                    f"e-mail is offered for {', '.join(EMAIL_EVENT_TYPES)}; "
                    f"use a webhook for {', '.join(other)}"
                )
        else:
            if not self.url or not re.match(r"^https?://[^\s/]+", self.url):
                raise ValueError("a webhook subscription needs an http(s) 'url'")
            if not self.secret:
                raise ValueError("a webhook subscription needs a 'secret' (at least 16 characters)")
        return self

    def wants(self, event_name: str, data: dict[str, Any]) -> bool:
        """Whether this subscriber gets an event with this name and (JSON) data."""
        if not self.active or event_name not in self.event_types:
            return False
        return all(_value_at(data, f.field) in f.values for f in self.filters)

    def public(self) -> dict[str, Any]:
        """What the API shows: everything but the secret."""
        shown = self.model_dump(mode="json", exclude={"secret"})
        shown["has_secret"] = self.secret is not None
        return shown


def _value_at(data: dict[str, Any], path: str) -> str | None:
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return None if current is None else str(current)
