"""The guide service's read API: recommended entries for a case, and one entry.

Short timeouts: the case page must render quickly also when the guide is slow
or down; it then shows that the recommendations are unavailable.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import structlog

from indgang_contracts.events import SharedEntry
from indgang_routing.domain.errors import InvalidInput, RoutingError
from indgang_runtime.telemetry import traced_http

log = structlog.get_logger(__name__)


class GuideUnavailable(RoutingError):
    pass


class GuideClient:
    def __init__(
        self,
        base_url: str,
        timeout: float,
        key: str | None = None,
        *,
        public_url: str | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        # Where the enterprise reads an entry: the municipality's own public guide page.
        self._public = (public_url or base_url).rstrip("/")
        self._timeout = timeout
        # The guide serves entries for internal use and a case's recommendations only
        # to staff: routing reads them on the consultant's behalf with this key.
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def _get(self, path: str) -> httpx.Response:
        client = traced_http(httpx.AsyncClient(timeout=self._timeout, headers=self._headers))
        async with client:
            return await client.get(f"{self._base}{path}")

    async def recommendations(self, case_id: str) -> list[dict[str, Any]] | None:
        """The guide's recommended entries for the case; [] if none yet; None if unreachable."""
        try:
            response = await self._get(f"/api/v1/guide/recommendations/{quote(case_id)}")
        except httpx.HTTPError as exc:
            log.warning("guide_unreachable", error=type(exc).__name__)
            return None
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            log.warning("guide_error", status=response.status_code)
            return None
        try:
            items = response.json().get("items", [])
        except ValueError:
            return None
        return [
            # The staff page of the entry, one click from the case (issue 13, point 7).
            {**item, "url": self.entry_page_url(str(item["entry_id"]))}
            for item in items
            if isinstance(item, dict) and item.get("entry_id")
        ]

    def entry_page_url(self, entry_id: str) -> str:
        """The guide's staff page for an entry (the guide is on the same internal network)."""
        return f"{self._base}/guide/entries/{quote(entry_id, safe='')}"

    def public_page_url(self, entry_id: str) -> str:
        """The entry's page in the municipality's public guide (issue 13, point 7): what a
        mail to the enterprise links to, not the statute or source the entry cites."""
        return f"{self._public}/hjaelp/{quote(entry_id, safe='')}"

    async def shareable_entry(self, entry_id: str) -> SharedEntry:
        """The entry as it may be sent to an inquirer: only entries for an external audience."""
        try:
            response = await self._get(f"/api/v1/guide/entries/{quote(entry_id, safe='')}")
        except httpx.HTTPError as exc:
            raise GuideUnavailable("Vejledningen svarer ikke lige nu; prøv igen om lidt.") from exc
        if response.status_code == 404:
            raise InvalidInput(f"Vejledningen har ikke opslaget {entry_id!r}.")
        if response.status_code != 200:
            raise GuideUnavailable("Vejledningen svarer ikke lige nu; prøv igen om lidt.")
        entry = response.json()
        if entry.get("audience") != "external":
            raise InvalidInput(
                f"Opslaget »{entry.get('title', entry_id)}« er kun til internt brug og kan "
                "ikke sendes til henvenderen."
            )
        shared_id = str(entry.get("id", entry_id))
        return SharedEntry(
            id=shared_id,
            title=str(entry.get("title", entry_id)),
            summary=str(entry.get("summary", "")),
            url=self.public_page_url(shared_id),
        )
