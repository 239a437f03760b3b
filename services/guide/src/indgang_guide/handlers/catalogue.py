"""The guide as this process sees it: every entry's current version and a search index.

Rebuilt from the store at start, after every save here, and when another
instance's save changes the store (a cheap check of ids and versions).
"""

from __future__ import annotations

import asyncio
from datetime import date

import structlog

from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain.entries import Entry, Section
from indgang_guide.domain.search import Filters, SearchHit, SearchIndex

log = structlog.get_logger(__name__)


class Catalogue:
    def __init__(self, store: GuideStore) -> None:
        self._store = store
        self._lock = asyncio.Lock()
        self.sections: list[Section] = []
        self.stored: dict[str, StoredEntry] = {}
        self.index = SearchIndex.build([])
        self._signature: list[tuple[str, int]] = []

    async def refresh(self) -> None:
        async with self._lock:
            stored = await self._store.current()
            self.sections = await self._store.all_sections()
            self.stored = {s.entry.id: s for s in stored}
            self.index = SearchIndex.build(s.entry for s in stored)
            self._signature = sorted((s.entry.id, s.version) for s in stored)

    async def refresh_if_changed(self) -> bool:
        if sorted(await self._store.signature()) == self._signature:
            return False
        await self.refresh()
        log.info("catalogue_refreshed", entries=len(self.stored))
        return True

    def entries(self) -> list[Entry]:
        return [s.entry for s in self.stored.values()]

    def published(self) -> list[Entry]:
        return [e for e in self.entries() if e.status == "published"]

    def get(self, entry_id: str) -> StoredEntry | None:
        return self.stored.get(entry_id)

    def search(self, query: str, filters: Filters, limit: int = 20) -> list[SearchHit]:
        return self.index.search(query, filters, limit)

    def due_for_review(self, today: date) -> list[StoredEntry]:
        due = [s for s in self.stored.values() if s.entry.is_due_for_review(today)]
        return sorted(due, key=lambda s: (s.entry.review_by, s.entry.id))
