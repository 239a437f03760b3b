"""The guide as this process sees it: every entry's current version and a search index.

Built from the store at start and whenever the store's catalogue generation
(a count of entry saves, one document read by `_id`) differs from the one it
was built at: a periodic check costs one indexed read whatever the size of
the guide, and another instance's save shows up within one interval. A save
made here is applied at once, without reading the store back.

Why the order of reads and writes is safe: a save stores the entry first and
raises the generation after, and a rebuild reads the generation first and the
entries after. So a catalogue built at generation G holds every save counted
up to G; a save counted as G + 1 made here, applied on top, makes it G + 1.
"""

from __future__ import annotations

import asyncio
from datetime import date

import structlog

from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain.entries import Entry, Section
from indgang_guide.domain.search import Filters, SearchHit, SearchIndex
from indgang_runtime.messaging import retry_transient

log = structlog.get_logger(__name__)


class Catalogue:
    def __init__(self, store: GuideStore) -> None:
        self._store = store
        self._lock = asyncio.Lock()
        self.sections: list[Section] = []
        self.stored: dict[str, StoredEntry] = {}
        self.index = SearchIndex.build([])
        # The store's generation this catalogue holds every save of; -1: not built yet.
        self.generation = -1

    async def refresh(self) -> None:
        """Rebuild from the store (not a hot path: at start and after a change)."""
        async with self._lock:
            generation = await self._store.generation()  # before the entries: see above
            stored = await self._store.current()
            self.sections = await self._store.all_sections()
            self.stored = {s.entry.id: s for s in stored}
            self.index = SearchIndex.build(s.entry for s in stored)
            self.generation = generation

    async def refresh_if_changed(self) -> bool:
        """The periodic check: one read by `_id`; a rebuild only if an entry was saved."""
        if await self._store.generation() == self.generation:
            return False
        await self.refresh()
        log.info("catalogue_refreshed", entries=len(self.stored), generation=self.generation)
        return True

    async def saved(self, stored: StoredEntry) -> None:
        """A save made by this instance (already stored): show it here now, and count
        it in the store so the other instances rebuild."""
        async with self._lock:
            known = self.stored.get(stored.entry.id)
            # A rebuild may already hold a later version saved elsewhere.
            if known is None or known.version < stored.version:
                self.stored[stored.entry.id] = stored
                self.index = SearchIndex.build(s.entry for s in self.stored.values())
        try:
            generation = await retry_transient(self._store.raise_generation, attempts=3)
        except Exception as exc:
            # The save itself is stored and shown here; the other instances see it
            # after the next save anywhere or a restart. Failing the editor's request
            # would only make them retry a save that is already done.
            log.error("catalogue_generation_not_raised", error=type(exc).__name__)
            return
        async with self._lock:
            if generation == self.generation + 1:  # ours was the only save since
                self.generation = generation

    async def reload_everywhere(self) -> None:
        """After loading the content files: every instance (this one too) rebuilds."""
        await retry_transient(self._store.raise_generation, attempts=3)
        await self.refresh()

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
