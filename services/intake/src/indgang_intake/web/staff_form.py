"""The staff intake form: phone, e-mail, meeting or forwarded by another department."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from indgang_intake.domain.inquiry import Door, InquirySubmission, StaffDoorIn
from indgang_intake.web.forms import (
    DOOR_FIELDS,
    INQUIRY_FIELDS,
    empty_values,
    form_errors,
    read_door_form,
    read_inquiry_form,
)
from indgang_intake.web.pages import form_page
from indgang_intake.web.state import Idempotency, Repository, Settings
from indgang_intake.web.submitting import store_form
from indgang_intake.web.texts import TRANSLATIONS
from indgang_runtime.auth import StaffUser, require_roles
from indgang_runtime.pages import Language, language
from indgang_runtime.web import render

Staff = Annotated[StaffUser, Depends(require_roles("consultant", "team_lead"))]
Model = TypeVar("Model", bound=BaseModel)

router = APIRouter(include_in_schema=False)


def staff_page(request: Request, user: StaffUser, values: dict[str, Any], **form: Any) -> Response:
    return form_page(request, "intake/staff_form.html", values, user=user, **form)


def _validated(model: type[Model], data: dict[str, Any], problems: list[Any]) -> Model | None:
    """The model, or None with its errors added to `problems`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems += exc.errors()
        return None


def _staff_errors(
    problems: list[Any], lang: Language
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    errors, summary = form_errors(problems, lang, DOOR_FIELDS + INQUIRY_FIELDS)
    if "privacy_notice_accepted" in errors:  # staff confirm for the inquirer
        said = TRANSLATIONS.gettext(lang)("staff.privacy.error")
        errors["privacy_notice_accepted"] = said
        summary = [
            (anchor, said if anchor == "privacy-notice-accepted" else message)
            for anchor, message in summary
        ]
    return errors, summary


@router.get("/medarbejder/henvendelse", response_class=HTMLResponse)
async def staff_form(request: Request, user: Staff) -> Response:
    return staff_page(request, user, empty_values(language(request)))


@router.post("/medarbejder/henvendelse", response_class=HTMLResponse)
async def staff_submit(
    request: Request,
    user: Staff,
    settings: Settings,
    repository: Repository,
    idempotency: Idempotency,
) -> Response:
    lang = language(request)
    form_data = await request.form()
    entered = read_inquiry_form(form_data, lang)
    door_values, door_data = read_door_form(form_data)
    problems: list[Any] = []
    door_in = _validated(StaffDoorIn, door_data, problems)
    submission = _validated(InquirySubmission, entered.data, problems)
    if problems or submission is None or door_in is None:
        errors, summary = _staff_errors(problems, lang)
        return staff_page(
            request,
            user,
            {**entered.values, **door_values},
            token=entered.token,
            errors=errors,
            summary=summary,
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    door = Door.staff(user.id, door_in.channel, door_in.forwarded_by)
    receipt = await store_form(
        entered.token,
        submission,
        door,
        repository=repository,
        idempotency=idempotency,
        settings=settings,
    )
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
