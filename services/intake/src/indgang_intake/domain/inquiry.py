"""Inquiries: what someone asked the municipality, through whichever door.

Pure domain: validation rules, normalisation, the organisation key and the door
an inquiry came through. No I/O.

Validation errors carry their own error types (`cvr_invalid`, `phone_invalid`,
`privacy_not_accepted`, ...) so that the web layer can word them in Danish and
English per field (`indgang_intake.web.messages`).
"""

from __future__ import annotations

import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
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

NAME_MAX = 200
DESCRIPTION_MAX = 5000


def normalise_cvr(value: str | None) -> str | None:
    """Accept '12345678', 'DK 12 34 56 78'; require Erhvervsstyrelsen's modulus-11 check."""
    if value is None or not value.strip():
        return None
    try:
        return str(stdnum_cvr.validate(value))
    except StdnumError as exc:
        raise PydanticCustomError(
            "cvr_invalid", "CVR must be 8 digits with a valid check digit (modulus 11)"
        ) from exc


def normalise_phone(value: str | None) -> str | None:
    """Danish numbers without country code, foreign ones with it; stored as E.164."""
    if value is None or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, "DK")
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError("phone_invalid", "the phone number cannot be read") from exc
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError("phone_invalid", "the phone number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def organisation_key(cvr: str | None, email: str) -> str:
    """Who the organisation is: its CVR number, else the contact's e-mail."""
    return f"cvr:{cvr}" if cvr else f"email:{email.strip().lower()}"


def new_reference() -> str:
    return "H-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def no_control_characters(value: str) -> str:
    """Names go into mail headers and pages: a line break or other control character
    could inject a header (a `Bcc:` of its own) and is never part of a name."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise PydanticCustomError(
            "control_characters", "must not contain line breaks or other control characters"
        )
    return value


Text = Annotated[
    str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(no_control_characters)
]


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(description="Organisation name (or working name for an idea).")
    cvr: Annotated[str | None, AfterValidator(normalise_cvr)] = Field(
        default=None,
        description="CVR number if any: 8 digits passing the modulus-11 check; "
        "a 'DK' prefix and spaces are accepted and removed.",
        examples=["DK 35 95 47 16"],
    )
    stage: OrganisationStage = Field(description="How far the organisation has come.")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(description="The contact person's name.")
    email: EmailStr = Field(description="E-mail address for the receipt and the consultant.")
    phone: Annotated[str | None, AfterValidator(normalise_phone)] = Field(
        default=None,
        description="Optional. Danish numbers without country code, foreign ones with it "
        "(e.g. '+46 ...'); stored as E.164.",
        examples=["20 30 40 50"],
    )
    preferred_language: str = Field(default="da", pattern=r"^(da|en)$", description="'da' or 'en'.")


class InquirySubmission(BaseModel):
    """What the inquirer tells the municipality, whoever types it in.

    The door (web form, staff, department system) is not part of it: it follows
    from who submits (see `Door`).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation: OrganisationIn
    contact: ContactIn
    needs: list[Need] = Field(
        min_length=1, max_length=len(Need), description="What they want help with (1 or more)."
    )
    description: str = Field(
        min_length=1,
        max_length=DESCRIPTION_MAX,
        description="Free text in the inquirer's words. Stored and shown as plain text only.",
    )
    privacy_notice_accepted: bool = Field(
        description="The inquirer has been shown the privacy notice (must be true)."
    )

    @field_validator("privacy_notice_accepted")
    @classmethod
    def _privacy_notice_shown(cls, value: bool) -> bool:
        if not value:
            raise PydanticCustomError("privacy_not_accepted", "the privacy notice must be accepted")
        return value


class StaffDoorIn(BaseModel):
    """How an inquiry registered by staff reached the municipality."""

    model_config = ConfigDict(extra="forbid")

    channel: InquiryChannel = Field(description="phone, email, walk_in or forwarded.")
    forwarded_by: Department | None = Field(
        default=None,
        validate_default=True,
        description="The department that forwarded it; required when channel is 'forwarded'.",
    )

    @field_validator("channel")
    @classmethod
    def _not_web(cls, value: InquiryChannel) -> InquiryChannel:
        if value is InquiryChannel.WEB:
            raise PydanticCustomError("channel_web", "staff register phone, e-mail, meeting")
        return value

    @field_validator("forwarded_by")
    @classmethod
    def _forwarded_by(cls, value: Department | None, info: ValidationInfo) -> Department | None:
        channel = info.data.get("channel")
        if channel is InquiryChannel.FORWARDED and value is None:
            raise PydanticCustomError(
                "forwarded_by_missing", "forwarded_by is required when channel is 'forwarded'"
            )
        if channel is not InquiryChannel.FORWARDED:
            return None
        return value


@dataclass(frozen=True)
class Door:
    """The door an inquiry came through and who opened it.

    - web: the public form or public API; nobody on the inquirer's behalf.
    - phone / email / walk_in: a staff member registered it (`received_by` = staff id).
    - forwarded: a department forwarded it (`forwarded_by`), by a staff member
      (`received_by` = staff id) or a department system (`system:<department>`).
    """

    channel: InquiryChannel = InquiryChannel.WEB
    forwarded_by: Department | None = None
    received_by: str | None = None

    def __post_init__(self) -> None:
        if (self.channel is InquiryChannel.FORWARDED) != (self.forwarded_by is not None):
            raise ValueError("forwarded_by is required exactly when channel is 'forwarded'")
        if self.channel is InquiryChannel.WEB and self.received_by is not None:
            raise ValueError("inquiries from the public form are received by nobody")
        if self.channel is not InquiryChannel.WEB and not self.received_by:
            raise ValueError("received_by is required for staff and department doors")

    @classmethod
    def public(cls) -> Door:
        return cls()

    @classmethod
    def department_system(cls, department: Department) -> Door:
        return cls(InquiryChannel.FORWARDED, department, f"system:{department.value}")

    @classmethod
    def staff(
        cls, staff_id: str, channel: InquiryChannel, forwarded_by: Department | None = None
    ) -> Door:
        return cls(channel, forwarded_by, staff_id)


@dataclass(frozen=True)
class Inquiry:
    id: str
    reference: str
    received_at: datetime
    submission: InquirySubmission
    door: Door
    municipality_code: str
    privacy_notice_version: str
    follow_up_of: str | None = None

    @classmethod
    def receive(
        cls,
        submission: InquirySubmission,
        *,
        door: Door | None = None,
        municipality_code: str,
        privacy_notice_version: str,
        follow_up_of: str | None = None,
        inquiry_id: str | None = None,
        reference: str | None = None,
        received_at: datetime | None = None,
    ) -> Inquiry:
        return cls(
            id=inquiry_id or str(uuid.uuid4()),
            reference=reference or new_reference(),
            received_at=received_at or datetime.now(UTC),
            submission=submission,
            door=door or Door.public(),
            municipality_code=municipality_code,
            privacy_notice_version=privacy_notice_version,
            follow_up_of=follow_up_of,
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
            channel=self.door.channel,
            forwarded_by=self.door.forwarded_by,
            received_by=self.door.received_by,
            follow_up_of=self.follow_up_of,
            organisation_key=self.organisation_key,
            organisation=Organisation(**s.organisation.model_dump()),
            contact=ContactPerson(**s.contact.model_dump()),
            needs=list(dict.fromkeys(s.needs)),
            description=s.description,
            privacy_notice_version=self.privacy_notice_version,
        )
