"""Intake's JSON API for the public, department systems and integrators.

Errors are problem details (RFC 9457, `indgang_runtime.problems`) answered in Danish
or English (`?lang=da|en`, else Accept-Language, else Danish), and always carry both:

- 422 keeps FastAPI's shape, `{"detail": [{"loc", "msg", "type"}, ...]}`, where
  `msg` is in the chosen language, and adds `msg_da` and `msg_en` to each item; its
  `errors` has them per field as `message`, `message_da` and `message_en`.
- Other errors (403, 404, 409, 413, 429) have `detail` (the chosen language),
  `detail_da` and `detail_en`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, Security, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from starlette.types import Scope

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import Door, InquirySubmission
from indgang_intake.handlers.idempotent import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    Outcome,
    fingerprint,
    submit_once,
)
from indgang_intake.web.guards import client_ip
from indgang_intake.web.messages import api_language, localised_detail
from indgang_intake.web.state import Idempotency, Keys, Limits, Repository, Settings
from indgang_intake.web.submitting import Submit, submitter
from indgang_runtime.auth import DepartmentSystem, require_department
from indgang_runtime.pages import Language
from indgang_runtime.problems import problem_response


class InquiryAccepted(BaseModel):
    inquiry_id: str = Field(description="The inquiry's id.")
    reference: str = Field(description="Reference to quote when contacting the municipality.")
    status: str = Field(default="received")
    follow_up: bool = Field(
        default=False,
        description="For department systems: true when the organisation had contacted the "
        "municipality before (the inquiry was added to its existing contact, same "
        "consultant). Always false for the public, whose answer must not reveal whether an "
        "e-mail address or CVR number already has a case.",
    )


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. ['body', 'organisation', 'cvr'].")
    msg: str = Field(description="The message in the chosen language.")
    type: str = Field(description="Machine-readable error type, e.g. 'cvr_invalid'.")
    msg_da: str = Field(description="The message in Danish.")
    msg_en: str = Field(description="The message in English.")


class ValidationFailed(BaseModel):
    detail: list[ErrorItem]


class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in the chosen language.")
    detail_da: str
    detail_en: str


class ApiError(Exception):
    """An API error worded in both languages."""

    def __init__(self, code: int, da: str, en: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(en)
        self.code = code
        self.da = da
        self.en = en
        self.headers = headers or {}


def request_language(request: Request) -> Language:
    return api_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def problem(lang: Language, da: str, en: str) -> dict[str, str]:
    return {"detail": da if lang == "da" else en, "detail_da": da, "detail_en": en}


def bilingual_problem(
    scope: Scope, code: int, da: str, en: str, headers: dict[str, str] | None = None
) -> Response:
    """The error as problem details, `detail` in the request's language, and both."""
    detail = problem(request_language(Request(scope)), da, en)
    return problem_response(
        scope,
        code,
        detail["detail"],
        headers=headers,
        detail_da=detail["detail_da"],
        detail_en=detail["detail_en"],
    )


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return bilingual_problem(request.scope, exc.code, exc.da, exc.en, exc.headers)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        request.scope,
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        localised_detail(exc.errors(), request_language(request)),
    )


TOO_LARGE = (
    "Forespørgslen er for stor: højst {limit} byte.",
    "The request is too large: at most {limit} bytes.",
)


def too_large_json(scope: Scope, limit: int) -> Response:
    da, en = (text.format(limit=limit) for text in TOO_LARGE)
    return bilingual_problem(scope, status.HTTP_413_CONTENT_TOO_LARGE, da, en)


_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A department system's API key. With it, the inquiry is registered as "
    "forwarded by that department; without it, as sent by the public.",
)


router = APIRouter(prefix="/api/v1", tags=["inquiries"])


async def optional_department(
    request: Request, keys: Keys, _key: str | None = Security(_api_key)
) -> DepartmentSystem | None:
    """The department system whose key was presented, None for the public; 403 for an
    unknown key. (An outside provider's key forwards as the outside-provider department,
    but is limited and de-duplicated as that provider alone.)"""
    # async: a plain def would run in FastAPI's thread pool, a thread hand-over per POST
    # for a hash and a few comparisons.
    has_key = request.headers.get("x-api-key") or request.headers.get(
        "authorization", ""
    ).lower().startswith("bearer ")
    if not has_key:
        return None
    try:
        return require_department(keys)(request)
    except HTTPException as exc:
        raise ApiError(
            status.HTTP_403_FORBIDDEN,
            "Ukendt API-nøgle.",
            "Unknown API key.",
        ) from exc


async def rate_limited(
    request: Request,
    limits: Limits,
    system: DepartmentSystem | None = Depends(optional_department),
) -> DepartmentSystem | None:
    if system is None:
        verdict = await limits.hit("public", client_ip(request))
    else:
        verdict = await limits.hit("department", client_of(system))
    if not verdict.allowed:
        seconds = verdict.retry_after
        raise ApiError(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"For mange henvendelser på kort tid. Prøv igen om {seconds} sekunder.",
            f"Too many submissions in a short time. Try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
    return system


def client_of(system: DepartmentSystem) -> str:
    """Whose limits and Idempotency-Keys these are: the department, or one outside
    provider (providers do not share a budget, nor each other's replayed answers)."""
    if system.provider_id is None:
        return system.department.value
    return f"{system.department.value}:{system.provider_id}"


POST_DESCRIPTION = (
    "Stores the inquiry and publishes `inquiry-received` through the outbox; the "
    "answer comes only once the inquiry is stored. Without an API key the inquiry "
    "comes from the public (`channel=web`). With a department's `X-API-Key` it is "
    "registered as forwarded by that department (`channel=forwarded`, "
    "`forwarded_by=<department>`, `received_by=system:<department>`).\n\n"
    "A repeat contact from the same organisation (same CVR, or same e-mail without "
    "CVR) is accepted and marked as a follow-up; a department system is told so "
    "(`follow_up: true`), the public is not: without an API key the answer is the same "
    "for a first and a repeat inquiry, so no one learns whether an address has a case.\n\n"
    "**Idempotency-Key**: send a unique key (e.g. a UUID) to make retries safe; a "
    "retry with the same key and body gets the first answer again (with "
    "`Idempotent-Replayed: true`) and no second inquiry. Keys are kept 24 hours per "
    "client (department, else client IP). The same key with another body gets 422; a "
    "retry while the first request is still being processed gets 409.\n\n"
    "**Errors** are worded in Danish or English: `?lang=da|en`, else "
    "`Accept-Language`, else Danish, as problem details (`type`, `title`, `status`, "
    "`detail`). 422 lists the fields in `errors` (`field`, `message`, `message_da`, "
    "`message_en`) and keeps FastAPI's `detail` list, with `msg_da` and `msg_en`; other "
    "errors add `detail_da` and `detail_en` to `detail`. Nothing is stored on error.\n\n"
    "**Limits**: per client IP (public) or per department key (429 with "
    "`Retry-After`); request bodies up to 64 KiB by default (413)."
)
POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "Unknown API key."},
    409: {
        "model": Problem,
        "description": "The first request with this key is still being processed; retry shortly.",
    },
    413: {"model": Problem, "description": "The request body is too large."},
    422: {
        "model": ValidationFailed,
        "description": "Invalid input, per field, in "
        "Danish and English; or an Idempotency-Key reused with another body.",
    },
    429: {"model": Problem, "description": "Too many submissions; see Retry-After."},
}


@router.post(
    "/inquiries",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InquiryAccepted,
    summary="Submit an inquiry",
    description=POST_DESCRIPTION,
    responses=POST_RESPONSES,
)
async def post_inquiry(
    request: Request,
    response: Response,
    submission: InquirySubmission,
    settings: Settings,
    repository: Repository,
    idempotency: Idempotency,
    system: DepartmentSystem | None = Depends(rate_limited),
    idempotency_key: str | None = Header(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes a retried POST return the first answer instead of a second inquiry.",
    ),
) -> InquiryAccepted:
    department = system.department if system else None
    door = Door.public() if department is None else Door.department_system(department)
    submit = submitter(submission, door, repository, settings)
    if idempotency_key is None:
        receipt = await submit()
    else:
        client = f"department:{client_of(system)}" if system else f"ip:{client_ip(request)}"
        outcome = await _submit_once(
            submit, idempotency, repository, client, idempotency_key, await request.json()
        )
        receipt = outcome.receipt
        if outcome.replayed:
            response.headers["Idempotent-Replayed"] = "true"
    answer = InquiryAccepted(**receipt.as_json())
    if department is None:
        # Issue 12, finding 10: the public's answer never tells that the organisation
        # (an e-mail address, a CVR number) is already known. Both kinds of inquiry do
        # the same reads and the same write, so neither does the time it takes.
        answer.follow_up = False
    return answer


async def _submit_once(
    submit: Submit,
    idempotency: IdempotencyStore,
    repository: InquiryRepository,
    client: str,
    key: str,
    body: Any,
) -> Outcome:
    """`submit` at most once per client and Idempotency-Key, its refusals as API errors."""
    try:
        return await submit_once(
            idempotency,
            repository,
            client=client,
            key=key,
            body_fingerprint=fingerprint(body),
            submit=submit,
        )
    except IdempotencyKeyReused as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "Idempotency-Key"),
                    "type": "idempotency_key_reused",
                    "msg": "Idempotency-Key reused with a different request body",
                    "input": key,
                }
            ]
        ) from exc
    except IdempotencyInProgress as exc:
        raise ApiError(
            status.HTTP_409_CONFLICT,
            "En henvendelse med samme Idempotency-Key er ved at blive behandlet. "
            "Prøv igen om et øjeblik.",
            "A request with the same Idempotency-Key is still being processed. Retry in a moment.",
            headers={"Retry-After": "1"},
        ) from exc


@router.get("/inquiries/{inquiry_id}/status", summary="Whether an inquiry was received")
async def inquiry_status(inquiry_id: str, repository: Repository) -> dict[str, str]:
    found = await repository.find(inquiry_id)
    if found is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "Ukendt henvendelse.", "No such inquiry.")
    return {"inquiry_id": inquiry_id, "reference": found.reference, "status": "received"}
