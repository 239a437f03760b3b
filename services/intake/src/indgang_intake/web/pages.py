"""What intake's pages share: their values, the form page and the 413 page.

The pages themselves are in `public_form.py` (the form and its receipt),
`statements.py` (the privacy notice and the accessibility statement) and
`staff_form.py` (the staff intake form). Ordinary HTML forms
(application/x-www-form-urlencoded) that work without JavaScript. Text from
people is rendered by Jinja2 with autoescaping, so it is always shown as text,
never as HTML.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request, status
from fastapi.responses import Response

from indgang_intake.settings import IntakeSettings
from indgang_intake.web.forms import new_token, options
from indgang_runtime.pages import Language, language
from indgang_runtime.phone import danish_phone
from indgang_runtime.web import ExtraValues, pages_of, render


def intake_values(settings: IntakeSettings) -> ExtraValues:
    """What intake's templates show besides the layout: links, promises, retention."""
    years = settings.retention_days_max / 365
    values = {
        "guide_public_url": settings.guide_public_url,
        "first_contact_working_days": settings.first_contact_working_days,
        "privacy_notice_version": settings.privacy_notice_version,
        "dpo_email": settings.dpo_email,
        "contact_email": settings.contact_email,
        "unit": settings.unit,
        "danish_phone": danish_phone,
        "retention": {
            "after_close_days": settings.retention_days_after_close,
            "max_days": settings.retention_days_max,
            "max_years": round(years, 1)
            if settings.retention_days_max % 365
            else settings.retention_days_max // 365,
            "idempotency_hours": settings.idempotency_retention_hours,
        },
    }

    def extra(request: Request, lang: Language) -> dict[str, Any]:
        return values

    return extra


def form_page(
    request: Request,
    template: str,
    values: dict[str, Any],
    *,
    token: str | None = None,
    errors: dict[str, str] | None = None,
    summary: list[tuple[str, str]] | None = None,
    code: int = 200,
    staff: bool = False,
    **extra: Any,
) -> Response:
    """A form with what was typed, its errors and error summary, and its form token;
    `staff`: worded for staff registering someone else's inquiry."""
    t = pages_of(request).gettext(request)
    return render(
        request,
        template,
        {
            **extra,
            "values": values,
            "errors": errors or {},
            "summary": summary or [],
            "options": options(t, language(request), public=not staff),
            "staff": staff,
            "form_token": token or new_token(),
        },
        code,
    )


def too_large_page(request: Request, settings: IntakeSettings) -> Response:
    """The 413 page for browsers (before any route: no language is remembered)."""
    pages = pages_of(request)
    t = pages.gettext(request)
    return pages.response(
        request,
        "intake/message.html",
        {
            "heading": t("toolarge.title"),
            "text": t("toolarge.text").format(kib=math.floor(settings.max_body_bytes / 1024)),
            "back_href": "/",
            "back_text": t("toolarge.back"),
        },
        status_code=status.HTTP_413_CONTENT_TOO_LARGE,
    )
