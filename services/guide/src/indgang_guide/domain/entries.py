"""The internal guide: the seed's four sections and their entries.

Pure domain: the entry model with its rules, with errors per field in Danish
(the editor and the API show them next to the field).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator

from indgang_contracts.events import Need, OrganisationStage


class SectionId(StrEnum):
    STARTING_AND_RUNNING = "starting_and_running"
    EMPLOYING_VULNERABLE_UNEMPLOYED = "employing_vulnerable_unemployed"
    OFFERS = "offers"
    SOCIAL_VALUE_PARTNERSHIP = "social_value_partnership"


class EntryKind(StrEnum):
    ARTICLE = "article"
    LEGISLATION = "legislation"
    SUPPORT_SCHEME = "support_scheme"
    OFFER = "offer"


Audience = Literal["internal", "external"]
Status = Literal["draft", "published"]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    url: AnyHttpUrl


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: SectionId
    title: str
    title_en: str
    description: str


# Fields each kind cannot do without, with the Danish reason shown to the editor.
KIND_REQUIRES: dict[EntryKind, dict[str, str]] = {
    EntryKind.LEGISLATION: {
        "law": "Et lovgivningsopslag skal angive loven.",
        "law_reference": "Et lovgivningsopslag skal angive lovens nummer og dato.",
        "official_url": "Et lovgivningsopslag skal linke til den officielle lovtekst.",
        "sources": "Et lovgivningsopslag skal have mindst én kilde.",
    },
    EntryKind.SUPPORT_SCHEME: {
        "administered_by": "En støtteordning skal angive, hvem der administrerer den.",
    },
    EntryKind.OFFER: {"provider": "Et tilbud skal angive udbyderen."},
}


def kind_problems(kind: EntryKind, values: dict[str, Any]) -> dict[str, str]:
    """The fields this kind requires that are empty, each with its reason."""
    return {
        name: reason for name, reason in KIND_REQUIRES.get(kind, {}).items() if not values.get(name)
    }


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    section: SectionId
    kind: EntryKind
    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(min_length=1, max_length=600)
    body: str = Field(min_length=1)
    needs: list[Need] = Field(default_factory=list)
    stages: list[OrganisationStage] = Field(default_factory=list)
    audience: Audience
    owner: str = Field(min_length=1)
    review_by: date
    status: Status
    needs_review: bool = False
    # What a reviewer must still verify, and where (staff only: shown on the staff
    # page and in the review list, never on the public page). Set when a fact could
    # not be checked against its source; the review date is then left as it was.
    to_check: str | None = Field(default=None, max_length=2000)
    tags: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    law: str | None = None
    law_reference: str | None = None
    section_ref: str | None = None
    official_url: AnyHttpUrl | None = None
    administered_by: str | None = None
    eligibility: str | None = None
    how_to_apply: str | None = None
    provider: str | None = None
    contact: str | None = None
    price: str | None = None

    @model_validator(mode="after")
    def _kind_rules(self) -> Entry:
        problems = kind_problems(self.kind, dict(self))
        if problems:
            raise ValueError(" ".join(f"{k}: {v}" for k, v in problems.items()))
        return self

    def paragraphs(self) -> list[str]:
        """The body as plain-text paragraphs (blank lines separate them)."""
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]

    def is_due_for_review(self, today: date) -> bool:
        return self.review_by < today or self.needs_review or bool(self.to_check)


class InvalidEntry(ValueError):
    """An entry that breaks the rules; `errors` maps each field to a Danish message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


_MESSAGES = {
    "missing": "Skal udfyldes.",
    "string_too_short": "Skal udfyldes.",
    "string_too_long": "Er for lang.",
    "string_pattern_mismatch": "Må kun indeholde små bogstaver a-z, tal og bindestreger.",
    "enum": "Vælg en af mulighederne.",
    "literal_error": "Vælg en af mulighederne.",
    "date_from_datetime_parsing": "Skal være en dato (ÅÅÅÅ-MM-DD).",
    "date_parsing": "Skal være en dato (ÅÅÅÅ-MM-DD).",
    "date_type": "Skal være en dato (ÅÅÅÅ-MM-DD).",
    "extra_forbidden": "Feltet findes ikke.",
}
_URL_MESSAGE = "Skal være en gyldig webadresse, der begynder med https:// eller http://."


_CHOICES = frozenset({"section", "kind", "audience", "status"})


def _message(error: Any, field: str) -> str:
    kind = str(error["type"])
    if kind.startswith("url"):
        return _URL_MESSAGE
    if kind == "missing" and field in _CHOICES:
        return _MESSAGES["enum"]
    return _MESSAGES.get(kind, str(error["msg"]))


def parse_entry(values: dict[str, Any]) -> Entry:
    """Validate an entry; raise `InvalidEntry` with one message per field that is wrong."""
    errors: dict[str, str] = {}
    try:
        entry = Entry.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            if not loc:
                continue  # the kind rules: reported per field below
            field = str(loc[0])
            message = _message(error, field)
            if field == "sources" and len(loc) >= 2 and isinstance(loc[1], int):
                message = f"Kilde {loc[1] + 1}: {message}"
            errors.setdefault(field, message)
        try:
            kind = EntryKind(str(values.get("kind")))
        except ValueError:
            kind = None
        if kind is not None:
            for field, reason in kind_problems(kind, values).items():
                errors.setdefault(field, reason)
        raise InvalidEntry(errors or {"entry": str(exc)}) from exc
    return entry


def content_hash(entry: Entry) -> str:
    """A fingerprint of an entry's content (stable across runs), to spot file changes."""
    canonical = json.dumps(entry.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
