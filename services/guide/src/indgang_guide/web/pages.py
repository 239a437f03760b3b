"""Server-rendered pages: the public help page, the staff search and the editor.

Everything works without JavaScript; preview is a server round trip that keeps
what the editor typed. Entry bodies are plain text shown as paragraphs (the
templates autoescape), never HTML.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain import labels
from indgang_guide.domain.entries import Entry, EntryKind, InvalidEntry, SectionId, parse_entry
from indgang_guide.domain.search import Filters
from indgang_guide.domain.versions import describe_changes
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import Editing, EntryExists, EntryNotFound, VersionConflict
from indgang_guide.settings import GuideSettings
from indgang_guide.web.forms import empty_state, entry_values, form_state, state_of
from indgang_runtime.auth import StaffUser, current_user, require_roles
from indgang_runtime.pages import Translations, language, remember_language

STAFF = ("consultant", "team_lead", "guide_editor")


def _choice(value: str | None, allowed: type[Any]) -> str | None:
    """A filter value from a query string, or None when empty or not a known code."""
    try:
        return allowed(value).value if value else None
    except ValueError:
        return None


def _title(entry: Entry) -> str:
    return entry.title


def page_router(
    settings: GuideSettings,
    store: GuideStore,
    catalogue: Catalogue,
    editing: Editing,
    templates: Jinja2Templates,
    translations: Translations,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    staff = Depends(require_roles(*STAFF))
    editor = Depends(require_roles("guide_editor"))

    def context(request: Request) -> dict[str, Any]:
        lang = language(request)
        return {
            "lang": lang,
            "t": translations.gettext(lang),
            "municipality_name": settings.municipality_name,
            "accessibility_statement_url": settings.accessibility_statement_url,
            "user": current_user(request),
            "sections": catalogue.sections,
            "needs": list(Need),
            "stages": list(OrganisationStage),
            "kinds": list(EntryKind),
            "need_label": lambda n: labels.need_label(n, lang),
            "stage_label": lambda s: labels.stage_label(s, lang),
            "kind_label": lambda k: labels.KINDS[str(k)][lang == "en"],
            "audience_label": lambda a: labels.AUDIENCES[str(a)][lang == "en"],
            "status_label": lambda s: labels.STATUSES[str(s)][lang == "en"],
            "section_title": lambda sid: next(
                (s.title_en if lang == "en" else s.title)
                for s in catalogue.sections
                if s.id.value == str(sid)
            ),
            "section_options": [
                (s.id.value, s.title_en if lang == "en" else s.title) for s in catalogue.sections
            ],
            "kind_options": [(k.value, labels.KINDS[k.value][lang == "en"]) for k in EntryKind],
            "audience_options": [
                (a, labels.AUDIENCES[a][lang == "en"]) for a in ("internal", "external")
            ],
            "need_options": [(n.value, labels.need_label(n, lang)) for n in Need],
            "stage_options": [(s.value, labels.stage_label(s, lang)) for s in OrganisationStage],
            "describe_changes": describe_changes,
            "today": date.today(),
        }

    def render(
        request: Request, name: str, code: int = status.HTTP_200_OK, **values: Any
    ) -> Response:
        response = templates.TemplateResponse(
            request, name, {**context(request), **values}, status_code=code
        )
        result: Response = remember_language(response, request)
        return result

    # --- public -------------------------------------------------------------

    @router.get("/")
    async def home(request: Request) -> Response:
        target = "/guide" if current_user(request) else "/hjaelp"
        return RedirectResponse(target, status.HTTP_303_SEE_OTHER)

    @router.get("/hjaelp")
    async def public_help(request: Request) -> Response:
        external = [e for e in catalogue.published() if e.audience == "external"]
        grouped = [
            (
                section,
                sorted((e for e in external if e.section is section.id), key=lambda e: e.title),
            )
            for section in catalogue.sections
        ]
        return render(
            request, "guide/help.html", grouped=grouped, form_url=settings.intake_form_url
        )

    @router.get("/hjaelp/{entry_id}")
    async def public_entry(request: Request, entry_id: str) -> Response:
        stored = catalogue.get(entry_id)
        if (
            stored is None
            or stored.entry.status != "published"
            or (stored.entry.audience != "external")
        ):
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return render(
            request,
            "guide/help_entry.html",
            entry=stored.entry,
            form_url=settings.intake_form_url,
        )

    # --- staff: search and reading ------------------------------------------

    @router.get("/guide")
    async def search_page(
        request: Request,
        q: str = "",
        section: str | None = None,
        need: str | None = None,
        stage: str | None = None,
        kind: str | None = None,
        user: StaffUser = staff,
    ) -> Response:
        chosen = {
            "section": _choice(section, SectionId),
            "need": _choice(need, Need),
            "stage": _choice(stage, OrganisationStage),
            "kind": _choice(kind, EntryKind),
        }
        hits = catalogue.search(q[:200], Filters(**chosen), limit=50)
        return render(request, "guide/search.html", q=q[:200], chosen=chosen, hits=hits)

    def _readable(entry_id: str, user: StaffUser) -> StoredEntry:
        stored = catalogue.get(entry_id)
        if stored is None or (
            stored.entry.status != "published" and not user.has_any("guide_editor")
        ):
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return stored

    @router.get("/guide/entries/{entry_id}")
    async def entry_page(request: Request, entry_id: str, user: StaffUser = staff) -> Response:
        stored = _readable(entry_id, user)
        return render(request, "guide/entry.html", stored=stored, entry=stored.entry)

    @router.get("/guide/entries/{entry_id}/versions")
    async def history_page(request: Request, entry_id: str, user: StaffUser = staff) -> Response:
        _readable(entry_id, user)
        stored = await store.get(entry_id)
        assert stored is not None
        return render(request, "guide/history.html", stored=stored)

    @router.get("/guide/entries/{entry_id}/versions/{number}")
    async def version_page(
        request: Request, entry_id: str, number: int, user: StaffUser = staff
    ) -> Response:
        _readable(entry_id, user)
        stored = await store.get(entry_id)
        version = stored.at_version(number) if stored else None
        if stored is None or version is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return render(
            request, "guide/version.html", stored=stored, version=version, entry=version.content
        )

    # --- editor -------------------------------------------------------------

    @router.get("/redaktion")
    async def editor_home(request: Request, done: str = "", user: StaffUser = editor) -> Response:
        entries = sorted(catalogue.stored.values(), key=lambda s: (s.entry.section, s.entry.title))
        return render(
            request,
            "guide/editor_list.html",
            entries=entries,
            due=catalogue.due_for_review(date.today()),
            done=done,
        )

    def form_page(
        request: Request,
        *,
        state: dict[str, Any],
        stored: StoredEntry | None,
        errors: dict[str, str] | None = None,
        preview: Any = None,
        problem: str | None = None,
        code: int = status.HTTP_200_OK,
    ) -> Response:
        return render(
            request,
            "guide/editor_form.html",
            code=code,
            state=state,
            stored=stored,
            errors=errors or {},
            preview=preview,
            problem=problem,
        )

    @router.get("/redaktion/nyt")
    async def new_form(request: Request, user: StaffUser = editor) -> Response:
        review_by = (date.today() + timedelta(days=365)).isoformat()
        return form_page(request, state=empty_state(user.name, review_by), stored=None)

    async def _submitted(request: Request) -> tuple[dict[str, Any], str]:
        form = await request.form()
        return form_state(form, form.getlist), str(form.get("action", "save"))

    def _try_parse(values: dict[str, Any]) -> tuple[Any, dict[str, str]]:
        try:
            return parse_entry(values), {}
        except InvalidEntry as exc:
            return None, exc.errors

    @router.post("/redaktion/nyt")
    async def create(request: Request, user: StaffUser = editor) -> Response:
        state, action = await _submitted(request)
        values = entry_values(state, "draft")
        entry, errors = _try_parse(values)
        unprocessable = status.HTTP_422_UNPROCESSABLE_CONTENT
        if errors or action == "preview":
            return form_page(
                request,
                state=state,
                stored=None,
                errors=errors,
                preview=entry,
                code=unprocessable if errors else status.HTTP_200_OK,
            )
        try:
            await editing.create(values, user.id)
        except EntryExists:
            return form_page(
                request,
                state=state,
                stored=None,
                errors={"id": translations.gettext(language(request))("editor.exists")},
                code=unprocessable,
            )
        return RedirectResponse(
            f"/redaktion/entries/{state['id']}?done=saved", status.HTTP_303_SEE_OTHER
        )

    async def _stored(entry_id: str) -> StoredEntry:
        stored = await store.get(entry_id)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND)
        return stored

    @router.get("/redaktion/entries/{entry_id}")
    async def edit_form(
        request: Request, entry_id: str, done: str = "", user: StaffUser = editor
    ) -> Response:
        stored = await _stored(entry_id)
        return render(
            request,
            "guide/editor_form.html",
            state=state_of(stored.entry),
            stored=stored,
            errors={},
            preview=None,
            problem=None,
            done=done,
        )

    @router.post("/redaktion/entries/{entry_id}")
    async def save(request: Request, entry_id: str, user: StaffUser = editor) -> Response:
        stored = await _stored(entry_id)
        form = await request.form()
        state, action = form_state(form, form.getlist), str(form.get("action", "save"))
        state["id"] = entry_id
        try:
            expected = int(str(form.get("version", "")))
        except ValueError:
            expected = 0
        values = entry_values(state, stored.entry.status)
        entry, errors = _try_parse(values)
        if errors or action == "preview":
            return form_page(
                request,
                state=state,
                stored=stored,
                errors=errors,
                preview=entry,
                code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK,
            )
        try:
            await editing.save(entry_id, values, expected, user.id)
        except VersionConflict:
            t = translations.gettext(language(request))
            return form_page(
                request,
                state=state,
                stored=stored,
                problem=t("editor.conflict"),
                code=status.HTTP_409_CONFLICT,
            )
        return RedirectResponse(
            f"/redaktion/entries/{entry_id}?done=saved", status.HTTP_303_SEE_OTHER
        )

    @router.post("/redaktion/entries/{entry_id}/status")
    async def change_status(
        request: Request,
        entry_id: str,
        new_status: str = Form(..., alias="status", pattern="^(draft|published)$"),
        version: int = Form(...),
        user: StaffUser = editor,
    ) -> Response:
        try:
            await editing.set_status(entry_id, new_status, version, user.id)
        except EntryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND) from exc
        except VersionConflict:
            stored = await _stored(entry_id)
            t = translations.gettext(language(request))
            return form_page(
                request,
                state=state_of(stored.entry),
                stored=stored,
                problem=t("editor.conflict"),
                code=status.HTTP_409_CONFLICT,
            )
        done = "published" if new_status == "published" else "unpublished"
        return RedirectResponse(
            f"/redaktion/entries/{entry_id}?done={done}", status.HTTP_303_SEE_OTHER
        )

    return router
