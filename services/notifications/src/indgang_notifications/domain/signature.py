"""Webhook signatures: HMAC-SHA256 over "<unix timestamp>.<raw body>" with the subscriber's secret.

Header: `X-Indgang-Signature: t=<unix ts>,v1=<hex digest>`. The timestamp is
signed with the body, so a receiver that rejects old timestamps (the replay
window) cannot be fed a captured request again later.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Indgang-Signature"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    header: str,
    body: bytes,
    secret: str,
    now: float,
    tolerance: int = REPLAY_WINDOW_SECONDS,
) -> bool:
    """True if `header` signs `body` with `secret` and its timestamp is within `tolerance`."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=")[1]
    # Several v1 values are allowed so a secret can be rotated without downtime.
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
