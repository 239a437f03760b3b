"""The editor's pages (guide_editor): the list with what is due for review, create, edit
with a server-side preview, publish and unpublish.

Everything works without JavaScript; preview is a server round trip that keeps
what the editor typed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import Response
from starlette.datastructures import FormData

from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain.entries import Entry, InvalidEntry, parse_entry
from indgang_guide.handlers.editing import EntryExists, EntryNotFound, VersionConflict
from indgang_guide.web.dependencies import CatalogueDep, EditingDep, EditorDep, StoreDep
from indgang_guide.web.forms import empty_state, entry_values, form_state, state_of
from indgang_guide.web.pages.rendering import not_found, redirect
from indgang_runtime.local_time import danish_today
from indgang_runtime.web import pages_of, render

router = APIRouter(include_in_schema=False)


@router.get("/redaktion")
async def editor_home(
    request: Request, catalogue: CatalogueDep, user: EditorDep, done: str = ""
) -> Response:
    entries = sorted(catalogue.stored.values(), key=lambda s: (s.entry.section, s.entry.title))
    return render(
        request,
        "guide/editor_list.html",
        {"entries": entries, "due": catalogue.due_for_review(danish_today()), "done": done},
    )


def form_page(
    request: Request,
    *,
    state: dict[str, Any],
    stored: StoredEntry | None,
    errors: dict[str, str] | None = None,
    preview: Entry | None = None,
    problem: str | None = None,
    code: int = status.HTTP_200_OK,
    **values: Any,
) -> Response:
    """The editor's form: what was typed, its errors, a preview or a problem."""
    return render(
        request,
        "guide/editor_form.html",
        {
            "state": state,
            "stored": stored,
            "errors": errors or {},
            "preview": preview,
            "problem": problem,
            **values,
        },
        code,
    )


def conflict_page(request: Request, state: dict[str, Any], stored: StoredEntry) -> Response:
    """Someone saved the entry since the editor opened it: 409, and nothing is lost."""
    return form_page(
        request,
        state=state,
        stored=stored,
        problem=pages_of(request).gettext(request)("editor.conflict"),
        code=status.HTTP_409_CONFLICT,
    )


def checked_form(
    request: Request,
    state: dict[str, Any],
    stored: StoredEntry | None,
    values: dict[str, Any],
    action: str,
) -> Response | None:
    """The form again when the values have errors (422) or a preview was asked for;
    None when they may be saved."""
    try:
        entry, errors = parse_entry(values), {}
    except InvalidEntry as exc:
        entry, errors = None, exc.errors
    if not errors and action != "preview":
        return None
    return form_page(
        request,
        state=state,
        stored=stored,
        errors=errors,
        preview=entry,
        code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK,
    )


def saved(entry_id: str, done: str) -> Response:
    """Back to the entry's form, which says what was done."""
    return redirect(f"/redaktion/entries/{entry_id}?done={done}")


async def _submitted(request: Request) -> tuple[FormData, dict[str, Any], str]:
    """The posted form, what was typed in it, and the button pressed."""
    form = await request.form()
    return form, form_state(form, form.getlist), str(form.get("action", "save"))


async def _stored(store: GuideStore, entry_id: str) -> StoredEntry:
    stored = await store.get(entry_id)
    if stored is None:
        raise not_found()
    return stored


@router.get("/redaktion/nyt")
async def new_form(request: Request, user: EditorDep) -> Response:
    review_by = (danish_today() + timedelta(days=365)).isoformat()
    return form_page(request, state=empty_state(user.name, review_by), stored=None)


@router.post("/redaktion/nyt")
async def create(request: Request, editing: EditingDep, user: EditorDep) -> Response:
    _, state, action = await _submitted(request)
    values = entry_values(state, "draft")
    again = checked_form(request, state, None, values, action)
    if again is not None:
        return again
    try:
        await editing.create(values, user.id)
    except EntryExists:
        return form_page(
            request,
            state=state,
            stored=None,
            errors={"id": pages_of(request).gettext(request)("editor.exists")},
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return saved(state["id"], "saved")


@router.get("/redaktion/entries/{entry_id}")
async def edit_form(
    request: Request, entry_id: str, store: StoreDep, user: EditorDep, done: str = ""
) -> Response:
    stored = await _stored(store, entry_id)
    return form_page(request, state=state_of(stored.entry), stored=stored, done=done)


@router.post("/redaktion/entries/{entry_id}")
async def save(
    request: Request, entry_id: str, store: StoreDep, editing: EditingDep, user: EditorDep
) -> Response:
    stored = await _stored(store, entry_id)
    form, state, action = await _submitted(request)
    state["id"] = entry_id
    try:
        expected = int(str(form.get("version", "")))
    except ValueError:
        expected = 0
    values = entry_values(state, stored.entry.status)
    again = checked_form(request, state, stored, values, action)
    if again is not None:
        return again
    try:
        await editing.save(entry_id, values, expected, user.id)
    except VersionConflict:
        return conflict_page(request, state, stored)
    return saved(entry_id, "saved")


@router.post("/redaktion/entries/{entry_id}/status")
async def change_status(
    request: Request,
    entry_id: str,
    store: StoreDep,
    editing: EditingDep,
    user: EditorDep,
    new_status: str = Form(..., alias="status", pattern="^(draft|published)$"),
    version: int = Form(...),
) -> Response:
    try:
        await editing.set_status(entry_id, new_status, version, user.id)
    except EntryNotFound as exc:
        raise not_found() from exc
    except VersionConflict:
        stored = await _stored(store, entry_id)
        return conflict_page(request, state_of(stored.entry), stored)
    return saved(entry_id, "published" if new_status == "published" else "unpublished")
