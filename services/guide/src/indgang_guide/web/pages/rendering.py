"""What every page shares: its values, rendering, the redirect after an action, not found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.domain import labels
from indgang_guide.domain.entries import EntryKind
from indgang_guide.domain.versions import describe_changes
from indgang_guide.web.dependencies import GuideWeb, guide_web
from indgang_runtime.auth import current_user
from indgang_runtime.pages import language, remember_language


def page_values(request: Request, web: GuideWeb) -> dict[str, Any]:
    """The layout's values plus the labels and choices the guide's templates use."""
    lang = language(request)
    sections = web.catalogue.sections
    return {
        **web.page_context(request),
        "lang": lang,
        "t": web.translations.gettext(lang),
        "user": current_user(request),
        "sections": sections,
        "needs": list(Need),
        "stages": list(OrganisationStage),
        "kinds": list(EntryKind),
        "need_label": lambda n: labels.need_label(n, lang),
        "stage_label": lambda s: labels.stage_label(s, lang),
        "kind_label": lambda k: labels.KINDS[str(k)][lang == "en"],
        "audience_label": lambda a: labels.AUDIENCES[str(a)][lang == "en"],
        "status_label": lambda s: labels.STATUSES[str(s)][lang == "en"],
        "section_title": lambda sid: next(
            (s.title_en if lang == "en" else s.title) for s in sections if s.id.value == str(sid)
        ),
        "section_options": [
            (s.id.value, s.title_en if lang == "en" else s.title) for s in sections
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


def render(request: Request, name: str, code: int = status.HTTP_200_OK, **values: Any) -> Response:
    """The template `name` with the page values and `values`; keeps a `?lang=` choice."""
    web = guide_web(request)
    response = web.templates.TemplateResponse(
        request, name, {**page_values(request, web), **values}, status_code=code
    )
    result: Response = remember_language(response, request)
    return result


def gettext(request: Request) -> Callable[[str], str]:
    """The page text function in the request's language."""
    return guide_web(request).translations.gettext(language(request))


def redirect(target: str) -> Response:
    """After an action (or to the right start page): see `target`."""
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND)
