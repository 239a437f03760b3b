"""The public form at `/` and its receipt: rate limit, honeypot, validation, stored once."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, Response
from prometheus_client import Counter
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from indgang_intake.domain.inquiry import Door, InquirySubmission, new_reference
from indgang_intake.handlers.idempotent import IdempotencyInProgress
from indgang_intake.handlers.submit import Receipt
from indgang_intake.web.forms import InquiryForm, empty_values, form_errors, read_inquiry_form
from indgang_intake.web.guards import client_ip
from indgang_intake.web.pages import form_page
from indgang_intake.web.state import Idempotency, Limits, Repository, Settings
from indgang_intake.web.submitting import store_form
from indgang_runtime.pages import language
from indgang_runtime.web import render

log = structlog.get_logger(__name__)

HONEYPOT_CAUGHT = Counter(
    "indgang_intake_honeypot_total", "Form submissions with the honeypot filled (not stored)"
)

router = APIRouter(include_in_schema=False)


def public_form_page(
    request: Request,
    values: dict[str, Any],
    *,
    retry_after: int | None = None,
    unavailable: bool = False,
    **form: Any,
) -> Response:
    return form_page(
        request,
        "intake/form.html",
        values,
        unavailable=unavailable,
        retry_after=retry_after,
        **form,
    )


def form_again(request: Request, entered: InquiryForm, seconds: int, **page: Any) -> Response:
    """The form again with everything typed kept, and when to try again (429, 503)."""
    response = public_form_page(request, entered.values, token=entered.token, **page)
    response.headers["Retry-After"] = str(seconds)
    return response


def receipt_page(request: Request, receipt: Receipt) -> Response:
    # Never whether it was a follow-up: anyone can type anyone's e-mail address into
    # the form, and the receipt must not reveal that the address already has a case.
    return render(request, "intake/receipt.html", {"reference": receipt.reference})


@router.get("/", response_class=HTMLResponse)
async def form(request: Request) -> Response:
    return public_form_page(request, empty_values(language(request)))


@router.post("/", response_class=HTMLResponse)
async def submit_form(
    request: Request,
    limits: Limits,
    settings: Settings,
    repository: Repository,
    idempotency: Idempotency,
) -> Response:
    lang = language(request)
    entered = read_inquiry_form(await request.form(), lang)
    verdict = await limits.hit("public", client_ip(request))
    if not verdict.allowed:
        return form_again(
            request,
            entered,
            verdict.retry_after,
            retry_after=verdict.retry_after,
            code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    if entered.honeypot_filled:
        # A robot: it is told all went well, and nothing is stored or sent.
        HONEYPOT_CAUGHT.inc()
        log.info("honeypot_caught")
        return receipt_page(request, Receipt("", new_reference(), follow_up=False))
    try:
        submission = InquirySubmission.model_validate(entered.data)
    except ValidationError as exc:
        errors, summary = form_errors(exc.errors(), lang)
        return public_form_page(
            request,
            entered.values,
            token=entered.token,
            errors=errors,
            summary=summary,
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    try:
        receipt = await store_form(
            entered.token,
            submission,
            Door.public(),
            repository=repository,
            idempotency=idempotency,
            settings=settings,
        )
    except (PyMongoError, IdempotencyInProgress) as exc:
        # The store is down: nothing was stored, so say so and keep what was typed.
        log.warning("form_not_stored", error=type(exc).__name__)
        return form_again(
            request, entered, 30, unavailable=True, code=status.HTTP_503_SERVICE_UNAVAILABLE
        )
    return receipt_page(request, receipt)
