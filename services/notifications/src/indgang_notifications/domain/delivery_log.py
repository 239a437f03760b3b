"""How the delivery log finds deliveries without scanning the store. Pure.

The store answers only exact, top-level equality through an index, so a
delivery carries the words staff search by (`search_terms`: its case id,
inquiry id, reference and recipient, lowercased), the hour it was created
(`created_hour`) and, for a consultant's own listing, the case's consultant
with that hour (`consultant_hour`). A search is one equality on `search_terms`; the default
listing walks back hour by hour from now. Sorting and limiting happen here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

# The default listing looks this far back (the page says so).
RECENT_HOURS = 48
# Most rows a listing or search returns.
LIMIT = 200


def search_term(text: str) -> str:
    """The stored and searched form of an id, reference or address: exact, any case."""
    return text.strip().lower()


def search_terms(*values: str | None) -> list[str]:
    """What a delivery can be found by: its case id, inquiry id, reference, recipient."""
    return sorted({search_term(v) for v in values if v and v.strip()})


def created_hour(at: datetime) -> str:
    """The UTC hour a delivery was created in, e.g. '2026-11-30T22'."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def consultant_hour(consultant_id: str | None, hour: str) -> str | None:
    """A consultant's deliveries of one hour (their default listing), e.g.
    'ane-kjaer|2026-11-30T22'; None for a delivery about no consultant's case."""
    return f"{consultant_id}|{hour}" if consultant_id else None


def recent_hours(now: datetime, hours: int = RECENT_HOURS) -> list[str]:
    """The hours of the default listing, newest first."""
    return [created_hour(now - timedelta(hours=back)) for back in range(hours)]


def newest_first(
    docs: Iterable[Mapping[str, Any]], status: str | None = None, limit: int = LIMIT
) -> list[Mapping[str, Any]]:
    """Deliveries in this status (any if None), newest first, at most `limit`."""
    chosen = [d for d in docs if status is None or d.get("status") == status]
    chosen.sort(key=lambda d: d["created_at"], reverse=True)
    return chosen[:limit]
