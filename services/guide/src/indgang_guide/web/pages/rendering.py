"""What the guide's pages share besides the runtime's (`indgang_runtime.web.render`): their
labels and choices, the redirect after an action, not found."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.domain import labels
from indgang_guide.domain.entries import EntryKind
from indgang_guide.domain.versions import describe_changes
from indgang_guide.handlers.catalogue import Catalogue
from indgang_runtime.local_time import danish_today
from indgang_runtime.pages import Language
from indgang_runtime.web import ExtraValues


def guide_values(catalogue: Catalogue) -> ExtraValues:
    """The labels and choices the guide's templates use, in the page's language."""

    def values(request: Request, lang: Language) -> dict[str, Any]:
        sections = catalogue.sections
        return {
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
                (s.title_en if lang == "en" else s.title)
                for s in sections
                if s.id.value == str(sid)
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
            "today": danish_today(),
        }

    return values


def redirect(target: str) -> Response:
    """After an action (or to the right start page): see `target`."""
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND)
