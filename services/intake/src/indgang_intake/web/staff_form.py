"""The staff intake form: phone, e-mail, meeting or forwarded by another department."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from indgang_contracts.labels import label
from indgang_intake.domain.inquiry import Door, InquirySubmission, StaffDoorIn
from indgang_intake.web.forms import (
    DOOR_FIELDS,
    INQUIRY_FIELDS,
    empty_values,
    form_errors,
    read_door_form,
    read_inquiry_form,
)
from indgang_intake.web.messages import FIELD_MESSAGES
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
    return form_page(request, "intake/staff_form.html", values, user=user, staff=True, **form)


def _validated(model: type[Model], data: dict[str, Any], problems: list[Any]) -> Model | None:
    """The model, or None with its errors added to `problems`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems += exc.errors()
        return None


# Fields whose public error speaks to the inquirer ("Skriv dit navn."): on the staff
# form they speak about the inquirer instead.
_STAFF_ERRORS = {  # form field: (model path, the staff text)
    "contact_name": ("contact.name", "staff.error.contact_name"),
    "needs": ("needs", "staff.error.needs"),
    "description": ("description", "staff.error.description"),
    "privacy_notice_accepted": ("privacy_notice_accepted", "staff.privacy.error"),
}


def _staff_errors(
    problems: list[Any], lang: Language
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    errors, summary = form_errors(problems, lang, DOOR_FIELDS + INQUIRY_FIELDS)
    t = TRANSLATIONS.gettext(lang)
    anchors = dict(DOOR_FIELDS + INQUIRY_FIELDS)
    for field, (path, key) in _STAFF_ERRORS.items():
        if errors.get(field) in FIELD_MESSAGES[(path, "*")]:  # not "too long" and the like
            said = t(key)
            errors[field] = said
            summary = [
                (anchor, said if anchor == anchors[field] else message)
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
            "door": label(door.channel, lang)
            + (f" – {label(door.forwarded_by, lang)}" if door.forwarded_by else ""),
            "organisation_name": submission.organisation.name,
            "contact_name": submission.contact.name,
            "contact_phone": submission.contact.phone,
        },
    )
