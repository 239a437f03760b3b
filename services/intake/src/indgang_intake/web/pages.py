"""Intake's pages: the public form, its receipt, the privacy notice, the
accessibility statement and the staff intake form.

Ordinary HTML forms (application/x-www-form-urlencoded) that work without
JavaScript. Text from people is rendered by Jinja2 with autoescaping, so it is
always shown as text, never as HTML.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from prometheus_client import Counter
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import (
    Door,
    InquirySubmission,
    StaffDoorIn,
    new_reference,
)
from indgang_intake.handlers.idempotent import (
    IdempotencyInProgress,
    fingerprint,
    submit_once,
)
from indgang_intake.handlers.submit import Receipt, submit_inquiry
from indgang_intake.settings import IntakeSettings
from indgang_intake.web.forms import (
    DOOR_FIELDS,
    INQUIRY_FIELDS,
    InquiryForm,
    empty_values,
    form_errors,
    new_token,
    options,
    read_door_form,
    read_inquiry_form,
)
from indgang_intake.web.guards import RateLimits, client_ip
from indgang_intake.web.texts import TRANSLATIONS
from indgang_runtime.auth import StaffUser, require_roles
from indgang_runtime.pages import language, remember_language

log = structlog.get_logger(__name__)

HONEYPOT_CAUGHT = Counter(
    "indgang_intake_honeypot_total", "Form submissions with the honeypot filled (not stored)"
)


@dataclass(frozen=True)
class PageDeps:
    templates: Jinja2Templates
    settings: IntakeSettings
    repository: InquiryRepository
    idempotency: IdempotencyStore
    limits: RateLimits


def page_context(settings: IntakeSettings) -> Callable[[Request], dict[str, Any]]:
    """What every page's template needs, the shared layout included."""

    def context(request: Request) -> dict[str, Any]:
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

    return context


def pages_router(deps: PageDeps) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    context_of = page_context(deps.settings)
    settings = deps.settings
    staff = require_roles("consultant", "team_lead")

    def render(request: Request, template: str, extra: dict[str, Any], code: int = 200) -> Response:
        response = deps.templates.TemplateResponse(
            request, template, {**context_of(request), **extra}, status_code=code
        )
        remember_language(response, request)
        return response

    def form_page(
        request: Request,
        values: dict[str, Any],
        *,
        token: str | None = None,
        errors: dict[str, str] | None = None,
        summary: list[tuple[str, str]] | None = None,
        retry_after: int | None = None,
        unavailable: bool = False,
        code: int = 200,
    ) -> Response:
        t = TRANSLATIONS.gettext(language(request))
        return render(
            request,
            "intake/form.html",
            {
                "unavailable": unavailable,
                "values": values,
                "errors": errors or {},
                "summary": summary or [],
                "options": options(t),
                "form_token": token or new_token(),
                "retry_after": retry_after,
            },
            code,
        )

    async def store(
        request: Request, entered: InquiryForm, submission: InquirySubmission, door: Door
    ) -> Receipt:
        async def submit(inquiry_id: str | None = None, reference: str | None = None) -> Receipt:
            return await submit_inquiry(
                submission,
                door=door,
                repository=deps.repository,
                settings=settings,
                inquiry_id=inquiry_id,
                reference=reference,
            )

        if entered.token is None:
            return await submit()
        # The same form sent twice (double click, reload) gives one inquiry and one receipt.
        print_ = fingerprint(
            {
                "channel": door.channel.value,
                "forwarded_by": door.forwarded_by.value if door.forwarded_by else None,
                "received_by": door.received_by,
                "data": submission.model_dump(mode="json"),
            }
        )
        for _ in range(20):
            try:
                outcome = await submit_once(
                    deps.idempotency,
                    deps.repository,
                    client="form",
                    key=f"{entered.token}:{print_}",
                    body_fingerprint=print_,
                    submit=submit,
                )
            except IdempotencyInProgress:
                await asyncio.sleep(0.25)
                continue
            return outcome.receipt
        raise IdempotencyInProgress

    @router.get("/", response_class=HTMLResponse)
    async def form(request: Request) -> Response:
        return form_page(request, empty_values(language(request)))

    @router.post("/", response_class=HTMLResponse)
    async def submit_form(request: Request) -> Response:
        lang = language(request)
        entered = read_inquiry_form(await request.form(), lang)
        verdict = await deps.limits.hit("public", client_ip(request))
        if not verdict.allowed:
            response = form_page(
                request,
                entered.values,
                token=entered.token,
                retry_after=verdict.retry_after,
                code=status.HTTP_429_TOO_MANY_REQUESTS,
            )
            response.headers["Retry-After"] = str(verdict.retry_after)
            return response
        if entered.honeypot_filled:
            # A robot: it is told all went well, and nothing is stored or sent.
            HONEYPOT_CAUGHT.inc()
            log.info("honeypot_caught")
            return receipt_page(request, Receipt("", new_reference(), follow_up=False))
        try:
            submission = InquirySubmission.model_validate(entered.data)
        except ValidationError as exc:
            errors, summary = form_errors(exc.errors(), lang)
            return form_page(
                request,
                entered.values,
                token=entered.token,
                errors=errors,
                summary=summary,
                code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
        try:
            receipt = await store(request, entered, submission, Door.public())
        except (PyMongoError, IdempotencyInProgress) as exc:
            log.warning("form_not_stored", error=type(exc).__name__)
            return unavailable(request, entered)
        return receipt_page(request, receipt)

    def receipt_page(request: Request, receipt: Receipt) -> Response:
        return render(
            request,
            "intake/receipt.html",
            {"reference": receipt.reference, "follow_up": receipt.follow_up},
        )

    def unavailable(request: Request, entered: InquiryForm) -> Response:
        """The store is down: nothing was stored, so say so and keep what was typed."""
        response = form_page(
            request,
            entered.values,
            token=entered.token,
            unavailable=True,
            code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response.headers["Retry-After"] = "30"
        return response

    @router.get("/privatliv", response_class=HTMLResponse)
    async def privacy(request: Request) -> Response:
        return render(request, "intake/privacy.html", {})

    @router.get("/tilgaengelighed", response_class=HTMLResponse)
    async def accessibility(request: Request) -> Response:
        return render(request, "intake/accessibility.html", {})

    # --- Staff -------------------------------------------------------------------

    def staff_page(
        request: Request,
        user: StaffUser,
        values: dict[str, Any],
        *,
        token: str | None = None,
        errors: dict[str, str] | None = None,
        summary: list[tuple[str, str]] | None = None,
        code: int = 200,
    ) -> Response:
        t = TRANSLATIONS.gettext(language(request))
        return render(
            request,
            "intake/staff_form.html",
            {
                "user": user,
                "values": values,
                "errors": errors or {},
                "summary": summary or [],
                "options": options(t),
                "form_token": token or new_token(),
            },
            code,
        )

    @router.get("/medarbejder/henvendelse", response_class=HTMLResponse)
    async def staff_form(request: Request, user: StaffUser = Depends(staff)) -> Response:
        return staff_page(request, user, empty_values(language(request)))

    @router.post("/medarbejder/henvendelse", response_class=HTMLResponse)
    async def staff_submit(request: Request, user: StaffUser = Depends(staff)) -> Response:
        lang = language(request)
        form_data = await request.form()
        entered = read_inquiry_form(form_data, lang)
        door_values, door_data = read_door_form(form_data)
        values = {**entered.values, **door_values}
        problems: list[Any] = []
        submission: InquirySubmission | None = None
        door_in: StaffDoorIn | None = None
        try:
            door_in = StaffDoorIn.model_validate(door_data)
        except ValidationError as exc:
            problems += exc.errors()
        try:
            submission = InquirySubmission.model_validate(entered.data)
        except ValidationError as exc:
            problems += exc.errors()
        if problems or submission is None or door_in is None:
            errors, summary = form_errors(problems, lang, DOOR_FIELDS + INQUIRY_FIELDS)
            if "privacy_notice_accepted" in errors:  # staff confirm for the inquirer
                said = TRANSLATIONS.gettext(lang)("staff.privacy.error")
                errors["privacy_notice_accepted"] = said
                summary = [
                    (anchor, said if anchor == "privacy-notice-accepted" else message)
                    for anchor, message in summary
                ]
            return staff_page(
                request,
                user,
                values,
                token=entered.token,
                errors=errors,
                summary=summary,
                code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
        door = Door.staff(user.id, door_in.channel, door_in.forwarded_by)
        receipt = await store(request, entered, submission, door)
        return render(
            request,
            "intake/staff_receipt.html",
            {
                "reference": receipt.reference,
                "follow_up": receipt.follow_up,
                "channel": door.channel.value,
                "forwarded_by": door.forwarded_by.value if door.forwarded_by else None,
                "organisation_name": submission.organisation.name,
            },
        )

    return router


def too_large_page(
    templates: Jinja2Templates, settings: IntakeSettings, request: Request
) -> Response:
    """The 413 page for browsers."""
    context = page_context(settings)(request)
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
