"""What can go wrong in routing's use cases, in words a consultant understands.

The messages are Danish because the console shows them as they are; the web
layer maps the kinds to HTTP (404, 409, 422, 403) and the Kafka consumer
dead-letters them with the message as the reason.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Base class: `message` is shown to people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RoutingError):
    """The case, referral, consultant or provider does not exist."""


class CaseNotFound(NotFound):
    pass


class ReferralNotFound(NotFound):
    pass


class Conflict(RoutingError):
    """The action is not possible in the thing's current state (HTTP 409)."""


class InvalidTransition(Conflict):
    """A lifecycle or referral-answer step that the rules do not allow."""


class InvalidInput(RoutingError):
    """The input itself is wrong: a missing purpose, an unknown provider (HTTP 422)."""


class NotAllowed(RoutingError):
    """The caller may not do this to this thing (HTTP 403)."""
