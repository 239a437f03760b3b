"""Inquiries: what someone asked the municipality, through whichever door.

Pure domain: validation rules, normalisation and the organisation key. No I/O.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator
from stdnum.dk import cvr as stdnum_cvr
from stdnum.exceptions import ValidationError as StdnumError

from indgang_contracts.events import (
    ContactPerson,
    Department,
    InquiryChannel,
    InquiryReceived,
    Need,
    Organisation,
    OrganisationStage,
)

# No 0/O/1/I: references are read aloud on the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def normalise_cvr(value: str | None) -> str | None:
    """Accept '12345678', 'DK 12 34 56 78'; require Erhvervsstyrelsen's modulus-11 check."""
    if value is None or not value.strip():
        return None
    try:
        return str(stdnum_cvr.validate(value))
    except StdnumError as exc:
        raise ValueError("CVR-nummeret skal være 8 cifre med gyldigt kontrolciffer") from exc


def normalise_phone(value: str | None) -> str | None:
    """Danish numbers without country code, foreign ones with it; stored as E.164."""
    if value is None or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, "DK")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Telefonnummeret kan ikke læses") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Telefonnummeret er ikke gyldigt")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def organisation_key(cvr: str | None, email: str) -> str:
    """Who the organisation is: its CVR number, else the contact's e-mail."""
    return f"cvr:{cvr}" if cvr else f"email:{email.strip().lower()}"


def new_reference() -> str:
    return "H-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


Text = Annotated[str, Field(min_length=1, max_length=200)]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(description="Organisation name (or working name for an idea).")
    cvr: Annotated[str | None, AfterValidator(normalise_cvr)] = Field(
        default=None, description="CVR number if any; 'DK' prefix and spaces accepted."
    )
    stage: OrganisationStage


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text
    email: EmailStr
    phone: Annotated[str | None, AfterValidator(normalise_phone)] = None
    preferred_language: str = Field(default="da", pattern=r"^(da|en)$")


class InquirySubmission(BaseModel):
    """What a person or a department system submits."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation: OrganisationIn
    contact: ContactIn
    needs: list[Need] = Field(min_length=1, max_length=len(Need))
    description: str = Field(min_length=1, max_length=5000)
    channel: InquiryChannel = InquiryChannel.WEB
    forwarded_by: Department | None = None
    privacy_notice_accepted: bool = Field(
        description="The inquirer has been shown the privacy notice."
    )

    @model_validator(mode="after")
    def _door_is_consistent(self) -> InquirySubmission:
        if self.channel is InquiryChannel.FORWARDED and self.forwarded_by is None:
            raise ValueError("forwarded_by is required when channel is 'forwarded'")
        if self.channel is not InquiryChannel.FORWARDED and self.forwarded_by is not None:
            raise ValueError("forwarded_by is only allowed when channel is 'forwarded'")
        if not self.privacy_notice_accepted:
            raise ValueError("the privacy notice must be accepted")
        return self


@dataclass(frozen=True)
class Inquiry:
    id: str
    reference: str
    received_at: datetime
    submission: InquirySubmission
    municipality_code: str
    privacy_notice_version: str

    @classmethod
    def receive(
        cls, submission: InquirySubmission, *, municipality_code: str, privacy_notice_version: str
    ) -> Inquiry:
        return cls(
            id=str(uuid.uuid4()),
            reference=new_reference(),
            received_at=datetime.now(UTC),
            submission=submission,
            municipality_code=municipality_code,
            privacy_notice_version=privacy_notice_version,
        )

    @property
    def organisation_key(self) -> str:
        s = self.submission
        return organisation_key(s.organisation.cvr, s.contact.email)

    def received_event(self) -> InquiryReceived:
        s = self.submission
        return InquiryReceived(
            municipality_code=self.municipality_code,
            inquiry_id=self.id,
            reference=self.reference,
            received_at=self.received_at,
            channel=s.channel,
            forwarded_by=s.forwarded_by,
            organisation_key=self.organisation_key,
            organisation=Organisation(**s.organisation.model_dump()),
            contact=ContactPerson(**s.contact.model_dump()),
            needs=list(dict.fromkeys(s.needs)),
            description=s.description,
            privacy_notice_version=self.privacy_notice_version,
        )
