"""The guide's read API (the console and the public pages use it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.adapters.store import GuideStore
from indgang_guide.domain.entries import EntryKind, SectionId


def api_router(store: GuideStore) -> APIRouter:
    router = APIRouter(prefix="/api/v1/guide", tags=["guide"])

    @router.get("/entries", summary="Published entries, grouped under the seed's four sections")
    async def list_entries(
        section: SectionId | None = None,
        need: Need | None = None,
        stage: OrganisationStage | None = None,
        kind: EntryKind | None = None,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if section:
            query["section"] = section.value
        if need:
            query["needs"] = need.value
        if stage:
            query["stages"] = stage.value
        if kind:
            query["kind"] = kind.value
        entries = await store.published(query)
        sections = await store.all_sections()
        return {
            "sections": [
                {
                    "id": s["_id"],
                    "title": s["title"],
                    "title_en": s["title_en"],
                    "description": s["description"],
                    "entries": [
                        e.model_dump(mode="json") for e in entries if e.section.value == s["_id"]
                    ],
                }
                for s in sections
            ],
            "count": len(entries),
        }

    @router.get("/entries/{entry_id}", summary="One entry")
    async def get_entry(entry_id: str) -> dict[str, Any]:
        found = await store.published({"id": entry_id})
        if not found:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such entry")
        return found[0].model_dump(mode="json")

    @router.get("/recommendations/{case_id}", summary="Recommended entries for a case")
    async def recommendations(case_id: str) -> dict[str, Any]:
        doc = await store.recommendations_for(case_id)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no recommendations for that case yet")
        return {"case_id": case_id, "items": doc["items"]}

    return router
