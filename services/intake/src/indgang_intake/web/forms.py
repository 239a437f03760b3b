"""HTML form data ↔ the submission model, and validation errors ↔ form fields.

The form keeps exactly what was typed (`values`) so that an error page shows
it again; the model gets the same data in the API's shape (`data`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.datastructures import FormData

from indgang_contracts.events import Department, InquiryChannel, Need, OrganisationStage
from indgang_contracts.labels import label
from indgang_intake.web.messages import field_path, localise
from indgang_runtime.pages import Language

HONEYPOT = "website"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# Form fields in page order, with the id the error summary links to.
INQUIRY_FIELDS: tuple[tuple[str, str], ...] = (
    ("organisation_name", "organisation-name"),
    ("organisation_cvr", "organisation-cvr"),
    ("organisation_stage", "organisation-stage-1"),
    ("contact_name", "contact-name"),
    ("contact_email", "contact-email"),
    ("contact_phone", "contact-phone"),
    ("contact_language", "contact-language-1"),
    ("needs", "needs-1"),
    ("description", "description"),
    ("privacy_notice_accepted", "privacy-notice-accepted"),
)
DOOR_FIELDS: tuple[tuple[str, str], ...] = (
    ("channel", "channel-1"),
    ("forwarded_by", "forwarded-by"),
)

# Model field path → form field.
_FIELD_OF_PATH = {
    "organisation": "organisation_name",
    "organisation.name": "organisation_name",
    "organisation.cvr": "organisation_cvr",
    "organisation.stage": "organisation_stage",
    "contact": "contact_name",
    "contact.name": "contact_name",
    "contact.email": "contact_email",
    "contact.phone": "contact_phone",
    "contact.preferred_language": "contact_language",
    "needs": "needs",
    "needs.*": "needs",
    "description": "description",
    "privacy_notice_accepted": "privacy_notice_accepted",
    "channel": "channel",
    "forwarded_by": "forwarded_by",
}


def new_token() -> str:
    """A fresh form token: submitting the same form twice gives one inquiry."""
    return secrets.token_urlsafe(18)


def valid_token(value: str | None) -> str | None:
    return value if value and _TOKEN.match(value) else None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    # Browsers send line breaks as CRLF; store them as plain newlines.
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


@dataclass(frozen=True)
class InquiryForm:
    values: dict[str, Any]  # as typed, for showing the form again
    data: dict[str, Any]  # in the API's shape, for the model
    token: str | None
    honeypot_filled: bool


def read_inquiry_form(form: FormData, default_language: Language) -> InquiryForm:
    needs = [v for v in form.getlist("needs") if isinstance(v, str)]
    values: dict[str, Any] = {
        "organisation_name": _text(form, "organisation_name"),
        "organisation_cvr": _text(form, "organisation_cvr"),
        "organisation_stage": _text(form, "organisation_stage"),
        "contact_name": _text(form, "contact_name"),
        "contact_email": _text(form, "contact_email"),
        "contact_phone": _text(form, "contact_phone"),
        "contact_language": _text(form, "contact_language") or default_language,
        "needs": needs,
        "description": _text(form, "description"),
        "privacy_notice_accepted": _text(form, "privacy_notice_accepted") == "yes",
    }
    data: dict[str, Any] = {
        "organisation": {
            "name": values["organisation_name"],
            "cvr": values["organisation_cvr"] or None,
            "stage": values["organisation_stage"] or None,
        },
        "contact": {
            "name": values["contact_name"],
            "email": values["contact_email"],
            "phone": values["contact_phone"] or None,
            "preferred_language": values["contact_language"],
        },
        "needs": needs,
        "description": values["description"],
        "privacy_notice_accepted": values["privacy_notice_accepted"],
    }
    return InquiryForm(
        values=values,
        data=data,
        token=valid_token(_text(form, "form_token")),
        honeypot_filled=bool(_text(form, HONEYPOT).strip()),
    )


def read_door_form(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    values = {"channel": _text(form, "channel"), "forwarded_by": _text(form, "forwarded_by")}
    data = {"channel": values["channel"] or None, "forwarded_by": values["forwarded_by"] or None}
    return values, data


def empty_values(default_language: Language) -> dict[str, Any]:
    return {
        "organisation_name": "",
        "organisation_cvr": "",
        "organisation_stage": "",
        "contact_name": "",
        "contact_email": "",
        "contact_phone": "",
        "contact_language": default_language,
        "needs": [],
        "description": "",
        "privacy_notice_accepted": False,
        "channel": "",
        "forwarded_by": "",
    }


def form_errors(
    errors: Iterable[Mapping[str, Any]],
    lang: Language,
    fields: Sequence[tuple[str, str]] = INQUIRY_FIELDS,
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """One message per form field, and the error summary in page order (anchor, message)."""
    by_field: dict[str, str] = {}
    for error in errors:
        field = _FIELD_OF_PATH.get(field_path(error.get("loc", ())))
        if field is None or field in by_field:
            continue
        da, en = localise(error)
        by_field[field] = da if lang == "da" else en
    summary = [(anchor, by_field[name]) for name, anchor in fields if name in by_field]
    return by_field, summary


# Wording for the enterprise on the public form, where the contracts' label (the name
# of the thing, shared by every service) would be staff language. Every other code is
# shown with its label from `indgang_contracts.labels`, also on the staff form.
PUBLIC_WORDING: dict[StrEnum, dict[Language, str]] = {
    Need.HIRING_VULNERABLE_UNEMPLOYED: {
        "da": "At ansætte ledige, der har svært ved at få job "
        "(fx løntilskud, virksomhedspraktik, fleksjob eller mentor)",
        "en": "Hiring unemployed people who find it hard to get a job "
        "(e.g. wage subsidy, work placement, flex job or mentor)",
    },
    OrganisationStage.ORDINARY_COMPANY: {
        "da": "Almindelig virksomhed, der vil drive en del af forretningen socialøkonomisk",
        "en": "Ordinary company that wants to run part of the business as social economy",
    },
}


def code_label(code: StrEnum, lang: Language, *, public: bool = False) -> str:
    """The code's label: the contracts' table, or the public form's wording of it."""
    if public and code in PUBLIC_WORDING:
        return PUBLIC_WORDING[code][lang]
    return label(code, lang)


def options(t: Any, lang: Language, *, public: bool) -> dict[str, list[tuple[str, str]]]:
    """Choices for radios, checkboxes and selects, labelled in the page's language."""
    return {
        "stages": [(s.value, code_label(s, lang, public=public)) for s in OrganisationStage],
        "languages": [("da", t("language.da")), ("en", t("language.en"))],
        "needs": [(n.value, code_label(n, lang, public=public)) for n in Need],
        "channels": [
            (c.value, label(c, lang)) for c in InquiryChannel if c is not InquiryChannel.WEB
        ],
        "departments": [(d.value, label(d, lang)) for d in Department],
    }
