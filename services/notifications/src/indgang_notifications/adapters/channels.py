"""What a channel (SMTP, webhook) reports when it could not deliver."""

from __future__ import annotations


class SendFailed(Exception):
    """Not delivered. `permanent`: trying again cannot help (5xx SMTP reply, HTTP 4xx)."""

    def __init__(self, error: str, *, permanent: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.permanent = permanent
