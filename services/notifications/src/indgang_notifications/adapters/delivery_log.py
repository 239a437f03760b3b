"""The delivery log's reads (staff page and API): indexed equalities only.

- A search is exact: case id, inquiry id, reference or recipient, in any letter
  case — one equality on `search_terms`.
- Pending or given up (`status`): the deliveries in that state, which stay few
  (pending ones are in flight; given-up ones leave the state when resent).
- Otherwise the newest deliveries, read hour by hour (`created_hour`) back from
  now until there are enough, at most `RECENT_HOURS` back.
Sorting, the status filter and the limit are applied in Python.

A consultant sees only the deliveries about their own cases (`consultant`):
their listing reads their own hours (`consultant_hour`), and of a search or a
status only their deliveries are kept. The team lead sees all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from indgang_notifications.adapters.queries import (
    DEAD_DELIVERIES,
    DELIVERIES_CREATED_IN,
    DELIVERIES_FOUND_BY,
    DELIVERIES_OF_CONSULTANT_IN,
    PENDING_DELIVERIES,
)
from indgang_notifications.domain.delivery_log import (
    LIMIT,
    consultant_hour,
    newest_first,
    recent_hours,
    search_term,
)
from indgang_runtime import outbox

Document = dict[str, Any]
# Never read for the log: the message body and the outbox's copies of events.
_HIDDEN = dict.fromkeys(("content", *outbox.INTERNAL_FIELDS), False)


class DeliveryLog:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def search(
        self,
        query: str | None = None,
        status: str | None = None,
        limit: int = LIMIT,
        now: datetime | None = None,
        consultant: str | None = None,
    ) -> list[Mapping[str, Any]]:
        """The deliveries shown; with `consultant`, only those about their cases."""

        async def find(query: Mapping[str, Any]) -> list[Document]:
            found = await self._find(query)
            if consultant is None:
                return found
            return [d for d in found if d.get("consultant_id") == consultant]

        if query and query.strip():
            found = await find(DELIVERIES_FOUND_BY.filter(search_terms=search_term(query)))
            return newest_first(found, status, limit)
        if status in ("pending", "dead"):
            # Both states stay few: in flight, or given up until resent.
            by_status = PENDING_DELIVERIES if status == "pending" else DEAD_DELIVERIES
            return newest_first(await find(by_status.filter(status=status)), None, limit)
        shown: list[Document] = []
        for hour in recent_hours(now or datetime.now(UTC)):
            hourly = (
                DELIVERIES_CREATED_IN.filter(created_hour=hour)
                if consultant is None
                else DELIVERIES_OF_CONSULTANT_IN.filter(
                    consultant_hour=consultant_hour(consultant, hour)
                )
            )
            # Hours come newest first: once enough are found, older hours cannot change them.
            shown += [d for d in await find(hourly) if status is None or d["status"] == status]
            if len(shown) >= limit:
                break
        return newest_first(shown, None, limit)

    async def _find(self, query: Mapping[str, Any]) -> list[Document]:
        return await self.collection.find(dict(query), projection=_HIDDEN).to_list(None)
