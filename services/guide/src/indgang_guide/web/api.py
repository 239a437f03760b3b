"""The guide's JSON API: the routing console, other services and editors use it.

Reading published entries needs no session: the service sits on the
municipality's internal network and the routing service calls it server to
server (only `/hjaelp` and `/assets` are meant to be exposed to the internet).
Drafts, history and every write need a staff session with the right role.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain.entries import EntryKind, InvalidEntry, SectionId
from indgang_guide.domain.recommendations import recommend
from indgang_guide.domain.search import Filters
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import (
    Editing,
    EntryExists,
    EntryNotFound,
    VersionConflict,
)
from indgang_runtime.auth import StaffUser, current_user, require_roles

STAFF = ("consultant", "team_lead", "guide_editor")


def entry_json(stored: StoredEntry) -> dict[str, Any]:
    return {
        **stored.entry.model_dump(mode="json"),
        "version": stored.version,
        "updated_at": stored.updated_at.isoformat(),
        "updated_by": stored.updated_by,
    }


def invalid(errors: dict[str, str]) -> JSONResponse:
    """FastAPI's own 422 shape, one item per field, so clients handle one format."""
    return JSONResponse(
        {
            "detail": [
                {"loc": ["body", field], "msg": message, "type": "value_error"}
                for field, message in errors.items()
            ]
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _expected_version(body: dict[str, Any]) -> int:
    raw = body.pop("version", None)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "loc": ["body", "version"],
                    "msg": "The version you edited (a whole number) is required.",
                    "type": "value_error",
                }
            ],
        )
    return raw


def api_router(store: GuideStore, catalogue: Catalogue, editing: Editing) -> APIRouter:
    router = APIRouter(prefix="/api/v1/guide", tags=["guide"])
    editor = Depends(require_roles("guide_editor"))

    def readable(request: Request, entry_id: str) -> StoredEntry:
        stored = catalogue.get(entry_id)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such entry")
        if stored.entry.status != "published":
            user = current_user(request)
            if user is None or not user.has_any("guide_editor"):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such entry")
        return stored

    @router.get("/entries", summary="Published entries, grouped under the seed's four sections")
    async def list_entries(
        section: SectionId | None = None,
        need: Need | None = None,
        stage: OrganisationStage | None = None,
        kind: EntryKind | None = None,
        audience: str | None = Query(None, pattern="^(internal|external)$"),
    ) -> dict[str, Any]:
        filters = Filters(
            section=section and section.value,
            need=need and need.value,
            stage=stage and stage.value,
            kind=kind and kind.value,
            audience=audience,
        )
        chosen = sorted(
            (s for s in catalogue.stored.values() if filters.admit(s.entry)),
            key=lambda s: s.entry.id,
        )
        return {
            "sections": [
                {
                    "id": s.id.value,
                    "title": s.title,
                    "title_en": s.title_en,
                    "description": s.description,
                    "entries": [entry_json(e) for e in chosen if e.entry.section is s.id],
                }
                for s in catalogue.sections
            ],
            "count": len(chosen),
        }

    @router.get(
        "/entries/{entry_id}",
        summary="One entry (published: no session needed; drafts: guide editors)",
    )
    async def get_entry(request: Request, entry_id: str) -> dict[str, Any]:
        return entry_json(readable(request, entry_id))

    @router.get("/entries/{entry_id}/versions", summary="An entry's version history")
    async def versions(
        request: Request,
        entry_id: str,
        user: StaffUser = Depends(require_roles(*STAFF)),
    ) -> dict[str, Any]:
        readable(request, entry_id)
        stored = await store.get(entry_id)
        assert stored is not None
        return {
            "entry_id": entry_id,
            "version": stored.version,
            "versions": [
                {k: v for k, v in version.model_dump(mode="json").items() if k != "content"}
                for version in reversed(stored.history)
            ],
        }

    @router.get("/entries/{entry_id}/versions/{number}", summary="An old version, whole")
    async def version(
        request: Request,
        entry_id: str,
        number: int,
        user: StaffUser = Depends(require_roles(*STAFF)),
    ) -> dict[str, Any]:
        readable(request, entry_id)
        stored = await store.get(entry_id)
        found = stored.at_version(number) if stored else None
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such version")
        return found.model_dump(mode="json")

    @router.post(
        "/entries",
        status_code=status.HTTP_201_CREATED,
        summary="Create an entry (guide editors); 422 with an error per field",
        response_model=None,
    )
    async def create(
        body: dict[str, Any] = Body(...), user: StaffUser = editor
    ) -> dict[str, Any] | JSONResponse:
        try:
            created = await editing.create(body, user.id)
        except InvalidEntry as exc:
            return invalid(exc.errors)
        except EntryExists as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "an entry with that id exists") from exc
        return {**created.content.model_dump(mode="json"), "version": created.version}

    @router.put(
        "/entries/{entry_id}",
        summary="Save a new version (guide editors); send the `version` you edited",
        response_model=None,
    )
    async def save(
        entry_id: str, body: dict[str, Any] = Body(...), user: StaffUser = editor
    ) -> dict[str, Any] | JSONResponse:
        expected = _expected_version(body)
        for read_only in ("updated_at", "updated_by"):  # as GET returns them
            body.pop(read_only, None)
        try:
            saved = await editing.save(entry_id, body, expected, user.id)
        except InvalidEntry as exc:
            return invalid(exc.errors)
        except EntryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such entry") from exc
        except VersionConflict as exc:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "the entry was saved by someone else; reload it"
            ) from exc
        return {**saved.content.model_dump(mode="json"), "version": saved.version}

    async def _set_status(entry_id: str, new_status: str, body: dict[str, Any], by: str) -> Any:
        expected = _expected_version(body)
        try:
            saved = await editing.set_status(entry_id, new_status, expected, by)
        except EntryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such entry") from exc
        except VersionConflict as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "saved by someone else") from exc
        return {"entry_id": entry_id, "status": new_status, "version": saved.version}

    @router.post("/entries/{entry_id}/publish", summary="Publish (emits guide-entry-published)")
    async def publish(
        entry_id: str, body: dict[str, Any] = Body(...), user: StaffUser = editor
    ) -> dict[str, Any]:
        result: dict[str, Any] = await _set_status(entry_id, "published", body, user.id)
        return result

    @router.post("/entries/{entry_id}/unpublish", summary="Back to draft")
    async def unpublish(
        entry_id: str, body: dict[str, Any] = Body(...), user: StaffUser = editor
    ) -> dict[str, Any]:
        result: dict[str, Any] = await _set_status(entry_id, "draft", body, user.id)
        return result

    @router.get("/review-due", summary="Entries past their review date or marked for checking")
    async def review_due(user: StaffUser = editor) -> dict[str, Any]:
        due = catalogue.due_for_review(date.today())
        return {"count": len(due), "entries": [entry_json(s) for s in due]}

    @router.get("/search", summary="Danish full-text search in published entries")
    async def search(
        q: str = Query("", max_length=200),
        section: SectionId | None = None,
        need: Need | None = None,
        stage: OrganisationStage | None = None,
        kind: EntryKind | None = None,
        audience: str | None = Query(None, pattern="^(internal|external)$"),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        hits = catalogue.search(
            q,
            Filters(
                section=section and section.value,
                need=need and need.value,
                stage=stage and stage.value,
                kind=kind and kind.value,
                audience=audience,
            ),
            limit,
        )
        return {
            "query": q,
            "count": len(hits),
            "hits": [
                {
                    "entry_id": h.entry.id,
                    "title": h.entry.title,
                    "section": h.entry.section.value,
                    "kind": h.entry.kind.value,
                    "audience": h.entry.audience,
                    "score": h.score,
                    "snippet": h.snippet,
                    "summary": h.entry.summary,
                }
                for h in hits
            ],
        }

    @router.get("/recommendations", summary="Recommended entries for needs and a stage")
    async def recommendations_for(
        needs: list[Need] = Query(..., min_length=1),
        stage: OrganisationStage | None = None,
        limit: int = Query(5, ge=1, le=20),
    ) -> dict[str, Any]:
        items = recommend(catalogue.published(), needs, stage, limit)
        return {"items": [i.model_dump(mode="json") for i in items]}

    @router.get("/recommendations/{case_id}", summary="Recommended entries for a case")
    async def recommendations(case_id: str, limit: int = Query(5, ge=1, le=20)) -> dict[str, Any]:
        doc = await store.recommendations_for(case_id)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no recommendations for that case yet")
        if "needs" not in doc:  # stored before the case's needs were kept
            return {"case_id": case_id, "items": doc["items"]}
        # Computed again from the current guide, so edits since the case was routed count.
        items = recommend(
            catalogue.published(),
            [Need(n) for n in doc.get("needs", [])],
            OrganisationStage(doc["stage"]) if doc.get("stage") else None,
            limit,
        )
        return {"case_id": case_id, "items": [i.model_dump(mode="json") for i in items]}

    return router
