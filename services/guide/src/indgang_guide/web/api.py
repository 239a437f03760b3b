"""The guide's JSON API: the routing console, other services and editors use it.

Published entries for the public (`audience = external`) need no session.
Entries for internal use and a case's recommendations are staff's only: a staff
session, or routing's server-to-server key (`Authorization: Bearer`, settings
`guide_reader_key`); anyone else is served as if they did not exist (issue 12,
finding 10). Drafts, history and every write need a staff session with the right role.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.adapters.store import StoredEntry
from indgang_guide.domain.entries import Entry, EntryKind, InvalidEntry, SectionId
from indgang_guide.domain.recommendations import recommend
from indgang_guide.domain.search import Filters, SearchHit
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import (
    Editing,
    EntryExists,
    EntryNotFound,
    VersionConflict,
)
from indgang_guide.web.dependencies import (
    STAFF,
    CatalogueDep,
    EditingDep,
    EditorDep,
    SettingsDep,
    StaffDep,
    StoreDep,
)
from indgang_runtime.auth import current_user
from indgang_runtime.http_security import guide_reader_key, presented_token, token_matches
from indgang_runtime.local_time import danish_today

router = APIRouter(prefix="/api/v1/guide", tags=["guide"])


async def staff_reader(request: Request, settings: SettingsDep) -> bool:
    """Whether the caller may read entries for internal use: staff signed in, or routing
    with its key."""
    user = current_user(request)
    if user is not None and user.has_any(*STAFF):
        return True
    key = guide_reader_key(settings)
    return key is not None and token_matches(presented_token(request.headers), key)


StaffReader = Annotated[bool, Depends(staff_reader)]


def visible(entry: Entry, staff: bool) -> bool:
    return staff or entry.audience == "external"


def entry_json(stored: StoredEntry) -> dict[str, Any]:
    return {
        **stored.entry.model_dump(mode="json"),
        "version": stored.version,
        "updated_at": stored.updated_at.isoformat(),
        "updated_by": stored.updated_by,
    }


def invalid(errors: dict[str, str]) -> HTTPException:
    """422 with one item per field, as FastAPI's own validation (problem details)."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [
            {"loc": ["body", field], "msg": message, "type": "value_error"}
            for field, message in errors.items()
        ],
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


def _no_such_entry() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "no such entry")


def _readable(request: Request, catalogue: Catalogue, entry_id: str, staff: bool) -> StoredEntry:
    """A published entry (for internal use: staff only), or a draft for a guide editor's
    session; otherwise 404, as if it did not exist."""
    stored = catalogue.get(entry_id)
    if stored is None or not visible(stored.entry, staff):
        raise _no_such_entry()
    if stored.entry.status != "published":
        user = current_user(request)
        if user is None or not user.has_any("guide_editor"):
            raise _no_such_entry()
    return stored


def _filters(
    section: SectionId | None,
    need: Need | None,
    stage: OrganisationStage | None,
    kind: EntryKind | None,
    audience: str | None,
    staff: bool,
) -> Filters:
    if not staff:
        # The public sees entries for the public only; asking for the internal ones
        # finds none (an audience that matches nothing).
        audience = "external" if audience in (None, "external") else "staff only"
    return Filters(
        section=section and section.value,
        need=need and need.value,
        stage=stage and stage.value,
        kind=kind and kind.value,
        audience=audience,
    )


@router.get("/entries", summary="Published entries, grouped under the seed's four sections")
async def list_entries(
    catalogue: CatalogueDep,
    staff: StaffReader,
    section: SectionId | None = None,
    need: Need | None = None,
    stage: OrganisationStage | None = None,
    kind: EntryKind | None = None,
    audience: str | None = Query(None, pattern="^(internal|external)$"),
) -> dict[str, Any]:
    filters = _filters(section, need, stage, kind, audience, staff)
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
    summary="One entry (for the public: no session needed; internal: staff; drafts: editors)",
)
async def get_entry(
    request: Request, entry_id: str, catalogue: CatalogueDep, staff: StaffReader
) -> dict[str, Any]:
    return entry_json(_readable(request, catalogue, entry_id, staff))


@router.get("/entries/{entry_id}/versions", summary="An entry's version history")
async def versions(
    request: Request,
    entry_id: str,
    catalogue: CatalogueDep,
    store: StoreDep,
    user: StaffDep,
) -> dict[str, Any]:
    _readable(request, catalogue, entry_id, staff=True)
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
    catalogue: CatalogueDep,
    store: StoreDep,
    user: StaffDep,
) -> dict[str, Any]:
    _readable(request, catalogue, entry_id, staff=True)
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
    editing: EditingDep, user: EditorDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    try:
        created = await editing.create(body, user.id)
    except InvalidEntry as exc:
        raise invalid(exc.errors) from exc
    except EntryExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "an entry with that id exists") from exc
    return {**created.content.model_dump(mode="json"), "version": created.version}


@router.put(
    "/entries/{entry_id}",
    summary="Save a new version (guide editors); send the `version` you edited",
    response_model=None,
)
async def save(
    entry_id: str, editing: EditingDep, user: EditorDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    expected = _expected_version(body)
    for read_only in ("updated_at", "updated_by"):  # as GET returns them
        body.pop(read_only, None)
    try:
        saved = await editing.save(entry_id, body, expected, user.id)
    except InvalidEntry as exc:
        raise invalid(exc.errors) from exc
    except EntryNotFound as exc:
        raise _no_such_entry() from exc
    except VersionConflict as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the entry was saved by someone else; reload it"
        ) from exc
    return {**saved.content.model_dump(mode="json"), "version": saved.version}


async def _set_status(
    editing: Editing, entry_id: str, new_status: str, body: dict[str, Any], by: str
) -> dict[str, Any]:
    expected = _expected_version(body)
    try:
        saved = await editing.set_status(entry_id, new_status, expected, by)
    except EntryNotFound as exc:
        raise _no_such_entry() from exc
    except VersionConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "saved by someone else") from exc
    return {"entry_id": entry_id, "status": new_status, "version": saved.version}


@router.post("/entries/{entry_id}/publish", summary="Publish (emits guide-entry-published)")
async def publish(
    entry_id: str, editing: EditingDep, user: EditorDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    return await _set_status(editing, entry_id, "published", body, user.id)


@router.post("/entries/{entry_id}/unpublish", summary="Back to draft")
async def unpublish(
    entry_id: str, editing: EditingDep, user: EditorDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    return await _set_status(editing, entry_id, "draft", body, user.id)


@router.get("/review-due", summary="Entries past their review date or marked for checking")
async def review_due(catalogue: CatalogueDep, user: EditorDep) -> dict[str, Any]:
    due = catalogue.due_for_review(danish_today())
    return {"count": len(due), "entries": [entry_json(s) for s in due]}


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "entry_id": hit.entry.id,
        "title": hit.entry.title,
        "section": hit.entry.section.value,
        "kind": hit.entry.kind.value,
        "audience": hit.entry.audience,
        "score": hit.score,
        "snippet": hit.snippet,
        "summary": hit.entry.summary,
    }


@router.get("/search", summary="Danish full-text search in published entries")
async def search(
    catalogue: CatalogueDep,
    staff: StaffReader,
    q: str = Query("", max_length=200),
    section: SectionId | None = None,
    need: Need | None = None,
    stage: OrganisationStage | None = None,
    kind: EntryKind | None = None,
    audience: str | None = Query(None, pattern="^(internal|external)$"),
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    hits = catalogue.search(q, _filters(section, need, stage, kind, audience, staff), limit)
    return {"query": q, "count": len(hits), "hits": [_hit_json(h) for h in hits]}


@router.get("/recommendations", summary="Recommended entries for needs and a stage")
async def recommendations_for(
    catalogue: CatalogueDep,
    staff: StaffReader,
    needs: list[Need] = Query(..., min_length=1),
    stage: OrganisationStage | None = None,
    limit: int = Query(5, ge=1, le=20),
) -> dict[str, Any]:
    entries = [e for e in catalogue.published() if visible(e, staff)]
    items = recommend(entries, needs, stage, limit, today=danish_today())
    return {"items": [i.model_dump(mode="json") for i in items]}


@router.get("/recommendations/{case_id}", summary="Recommended entries for a case (staff)")
async def recommendations(
    case_id: str,
    catalogue: CatalogueDep,
    store: StoreDep,
    staff: StaffReader,
    limit: int = Query(5, ge=1, le=20),
) -> dict[str, Any]:
    if not staff:  # about a case: nothing for the public, not even whether it exists
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
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
        today=danish_today(),
    )
    return {"case_id": case_id, "items": [i.model_dump(mode="json") for i in items]}
