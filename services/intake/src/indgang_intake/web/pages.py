"""What intake's pages share: the layout's context, rendering, the form page and the 413 page.

The pages themselves are in `public_form.py` (the form and its receipt),
`statements.py` (the privacy notice and the accessibility statement) and
`staff_form.py` (the staff intake form). Ordinary HTML forms
(application/x-www-form-urlencoded) that work without JavaScript. Text from
people is rendered by Jinja2 with autoescaping, so it is always shown as text,
never as HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import Request, status
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from indgang_intake.settings import IntakeSettings
from indgang_intake.web.forms import new_token, options
from indgang_intake.web.state import settings_of, templates_of
from indgang_intake.web.texts import TRANSLATIONS
from indgang_runtime.pages import language, remember_language


def page_values(settings: IntakeSettings, request: Request) -> dict[str, Any]:
    """What every page's template needs, the shared layout included."""
    lang = language(request)
    return {
        "lang": lang,
        "t": TRANSLATIONS.gettext(lang),
        "municipality_name": settings.municipality_name,
        "accessibility_statement_url": settings.accessibility_statement_url,
        "guide_public_url": settings.guide_public_url,
        "first_contact_working_days": settings.first_contact_working_days,
        "privacy_notice_version": settings.privacy_notice_version,
        "dpo_email": settings.dpo_email,
        "contact_email": settings.contact_email,
        "retention": {
            "after_close_days": settings.retention_days_after_close,
            "max_days": settings.retention_days_max,
            "max_years": round(settings.retention_days_max / 365, 1)
            if settings.retention_days_max % 365
            else settings.retention_days_max // 365,
            "idempotency_hours": settings.idempotency_retention_hours,
        },
    }


def page_context(settings: IntakeSettings) -> Callable[[Request], dict[str, Any]]:
    """`page_values` for one app's settings (the sign-in pages use it too)."""
    return partial(page_values, settings)


def render(request: Request, template: str, extra: dict[str, Any], code: int = 200) -> Response:
    """A page in the shared layout, with the app's templates and settings."""
    response = templates_of(request).TemplateResponse(
        request,
        template,
        {**page_values(settings_of(request), request), **extra},
        status_code=code,
    )
    remember_language(response, request)
    return response


def form_page(
    request: Request,
    template: str,
    values: dict[str, Any],
    *,
    token: str | None = None,
    errors: dict[str, str] | None = None,
    summary: list[tuple[str, str]] | None = None,
    code: int = 200,
    **extra: Any,
) -> Response:
    """A form with what was typed, its errors and error summary, and its form token."""
    t = TRANSLATIONS.gettext(language(request))
    return render(
        request,
        template,
        {
            **extra,
            "values": values,
            "errors": errors or {},
            "summary": summary or [],
            "options": options(t),
            "form_token": token or new_token(),
        },
        code,
    )


def too_large_page(
    templates: Jinja2Templates, settings: IntakeSettings, request: Request
) -> Response:
    """The 413 page for browsers."""
    context = page_values(settings, request)
    t = context["t"]
    return templates.TemplateResponse(
        request,
        "intake/message.html",
        {
            **context,
            "heading": t("toolarge.title"),
            "text": t("toolarge.text").format(kib=math.floor(settings.max_body_bytes / 1024)),
            "back_href": "/",
            "back_text": t("toolarge.back"),
        },
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )
