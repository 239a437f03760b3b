"""Event payloads (the CloudEvent `data`) published by indgang's services.

Every model documents each field, because the JSON Schemas in `contracts/schemas/`
are generated from these models and are what integrators read. Personal data is
kept to what subscribers need: a contact person's name, e-mail and phone, never a
CPR number.

Versioning: `EVENT_VERSION` is the major version; it is part of the CloudEvent
type (`dk.indgang.inquiry-received.v1`) and of the topic name. Additive changes
keep the version; a breaking change adds a new model and an upcaster in
`indgang_contracts.upcasting`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

MunicipalityCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{3}$"),
    Field(
        description="Kommunekode (three digits), e.g. '756' for Ikast-Brande, so one "
        "deployment can serve several municipalities.",
        examples=["756"],
    ),
]
Cvr = Annotated[
    str,
    StringConstraints(pattern=r"^\d{8}$"),
    Field(description="CVR number, normalised to exactly 8 digits.", examples=["35954716"]),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Need(StrEnum):
    """What the enterprise asks for help with (derived from the seed's list)."""

    BUSINESS_DEVELOPMENT = "business_development"
    HIRING_VULNERABLE_UNEMPLOYED = "hiring_vulnerable_unemployed"
    FUNDING_AND_SUPPORT = "funding_and_support"
    SELLING_TO_MUNICIPALITY = "selling_to_municipality"
    RSV_REGISTRATION = "rsv_registration"
    COURSES_AND_MENTOR_TRAINING = "courses_and_mentor_training"
    LEGISLATION = "legislation"
    OTHER = "other"


class OrganisationStage(StrEnum):
    """How far the organisation has come."""

    IDEA = "idea"
    START_UP = "start_up"
    ESTABLISHED_SOCIAL_ECONOMY = "established_social_economy"
    ORDINARY_COMPANY = "ordinary_company"


class InquiryChannel(StrEnum):
    """The door the inquiry came through ("no wrong door": forwarded counts too)."""

    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    WALK_IN = "walk_in"
    FORWARDED = "forwarded"


class Department(StrEnum):
    """Municipal functions a consultant draws in, plus outside providers."""

    JOB_CENTRE = "job_centre"
    BUSINESS_SERVICE = "business_service"
    PROCUREMENT = "procurement"
    SOCIAL_SERVICES = "social_services"
    CSR = "csr"
    OUTSIDE_PROVIDER = "outside_provider"


class RoutingReason(StrEnum):
    """Why a consultant got the case; the explanation of the routing policy."""

    CONTINUITY = "continuity"
    EXPERTISE = "expertise"
    CAPACITY = "capacity"
    LEAST_LOADED = "least_loaded"
    DEPUTY = "deputy"
    MANUAL = "manual"


class _Model(BaseModel):
    # Unknown fields are ignored so that additive changes by a producer never
    # break an older consumer.
    model_config = ConfigDict(extra="ignore", frozen=True, use_enum_values=False)


class Organisation(_Model):
    """The enterprise or would-be enterprise behind an inquiry."""

    name: ShortText = Field(description="The organisation's name as the inquirer gave it.")
    cvr: Cvr | None = Field(
        default=None, description="CVR number if the organisation has one (8 digits)."
    )
    stage: OrganisationStage = Field(description="Idea, start-up, established or ordinary.")


class ContactPerson(_Model):
    """The person the municipality talks to. The minimum needed to answer them."""

    name: ShortText = Field(description="The contact person's full name.")
    email: EmailStr = Field(description="E-mail address for the receipt and the consultant.")
    phone: str | None = Field(
        default=None,
        max_length=30,
        description="Phone number in E.164 form (e.g. '+4512345678'), if given.",
    )
    preferred_language: str = Field(
        default="da",
        pattern=r"^(da|en)$",
        description="Language for messages to this person: 'da' or 'en'.",
    )


class Consultant(_Model):
    """The one named consultant who owns the enterprise's contact (staff data)."""

    id: str = Field(min_length=1, description="Stable consultant id from the team file.")
    name: ShortText = Field(description="The consultant's name, shown to the inquirer.")
    email: EmailStr = Field(description="The consultant's work e-mail.")
    phone: str | None = Field(default=None, description="The consultant's work phone.")


class ReferralTarget(_Model):
    """Who a referral goes to: a municipal department or a named outside provider."""

    department: Department = Field(description="The receiving function.")
    provider_id: str | None = Field(
        default=None,
        description="The outside provider's id when department is 'outside_provider'.",
    )


class Event(_Model):
    """Base of every published payload."""

    EVENT_NAME: ClassVar[str]
    EVENT_VERSION: ClassVar[int] = 1

    municipality_code: MunicipalityCode

    @classmethod
    def ce_type(cls) -> str:
        """The CloudEvent `type`, e.g. 'dk.indgang.inquiry-received.v1'."""
        return f"dk.indgang.{cls.EVENT_NAME}.v{cls.EVENT_VERSION}"

    def subject(self) -> str:
        """The CloudEvent `subject`: the id of the thing the event is about."""
        raise NotImplementedError

    def partition_key(self) -> str:
        """The Kafka key: all events of one key are ordered."""
        raise NotImplementedError


class InquiryReceived(Event):
    """An inquiry (henvendelse) reached the municipality through any door."""

    EVENT_NAME: ClassVar[str] = "inquiry-received"

    inquiry_id: str = Field(description="The inquiry's id (UUID).")
    reference: str = Field(
        description="Human-readable reference shown on the receipt, e.g. 'H-7K3M9Q2P'."
    )
    received_at: datetime = Field(description="When the municipality received it (UTC).")
    channel: InquiryChannel = Field(description="The door it came through.")
    forwarded_by: Department | None = Field(
        default=None,
        description="The department that forwarded it when channel is 'forwarded'.",
    )
    organisation_key: str = Field(
        description="Who the organisation is, for continuity and ordering: 'cvr:<8 digits>' "
        "or, without CVR, 'email:<lower-case e-mail>'. Also the Kafka key."
    )
    organisation: Organisation = Field(description="The organisation behind the inquiry.")
    contact: ContactPerson = Field(description="The person to answer.")
    needs: list[Need] = Field(min_length=1, description="What they want help with.")
    description: str = Field(
        max_length=5000, description="Free text in the inquirer's words (plain text)."
    )
    privacy_notice_version: str = Field(
        description="Version of the privacy notice the inquirer was shown and accepted."
    )

    def subject(self) -> str:
        return self.inquiry_id

    def partition_key(self) -> str:
        return self.organisation_key


class CaseRouted(Event):
    """A case got its one owning consultant (first routing or reassignment)."""

    EVENT_NAME: ClassVar[str] = "case-routed"

    case_id: str = Field(description="The case's id.")
    inquiry_id: str = Field(description="The inquiry that opened or last touched the case.")
    reference: str = Field(description="The inquiry's reference, as on the receipt.")
    organisation_key: str = Field(description="See inquiry-received.organisation_key.")
    organisation_name: str = Field(description="The organisation's name.")
    organisation_stage: OrganisationStage | None = Field(
        default=None, description="The organisation's stage, for guide recommendations."
    )
    needs: list[Need] = Field(description="The needs of the case.")
    consultant: Consultant = Field(description="The consultant who now owns the case.")
    previous_consultant_id: str | None = Field(
        default=None, description="The former owner on reassignment; null on first routing."
    )
    reason: RoutingReason = Field(description="Which rule of the routing policy decided.")
    explanation: str = Field(description="The reason in plain words, for people.")
    first_contact_due: date = Field(
        description="The consultant must contact the inquirer by this date (working days)."
    )
    routed_at: datetime = Field(description="When the routing decision was made (UTC).")

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class ReferralMade(Event):
    """A consultant drew in a department or outside provider; the consultant stays owner."""

    EVENT_NAME: ClassVar[str] = "referral-made"

    referral_id: str = Field(description="The referral's id.")
    case_id: str = Field(description="The case it belongs to.")
    reference: str = Field(description="The inquiry's reference.")
    target: ReferralTarget = Field(description="Who is asked to help.")
    purpose: str = Field(
        min_length=1, max_length=2000, description="What the target is asked to do, and why."
    )
    needs: list[Need] = Field(description="The needs this referral covers.")
    response_due: date | None = Field(
        default=None, description="When the target should have answered."
    )
    organisation: Organisation = Field(description="The organisation referred.")
    consent_to_share_contact: bool = Field(
        description="Whether the inquirer consented to sharing their contact details."
    )
    contact: ContactPerson | None = Field(
        default=None,
        description="The inquirer's contact details; present only with consent.",
    )
    consultant: Consultant = Field(description="The owning consultant, who stays the contact.")
    made_at: datetime = Field(description="When the referral was made (UTC).")

    @model_validator(mode="after")
    def _contact_only_with_consent(self) -> ReferralMade:
        if self.contact is not None and not self.consent_to_share_contact:
            raise ValueError("contact details may only be sent with the inquirer's consent")
        return self

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


EVENT_TYPES: dict[str, type[Event]] = {
    model.ce_type(): model for model in (InquiryReceived, CaseRouted, ReferralMade)
}
