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


# Every service names a department in the same words, so a new department is added
# here (its member and its names) and in notifications' mailbox table, nowhere else.
# "da"/"en": as a label or heading; "da_in_text"/"en_in_text": inside a sentence
# ("has asked the job centre to help").
DEPARTMENT_NAMES: dict[Department, dict[str, str]] = {
    Department.JOB_CENTRE: {
        "da": "Jobcentret",
        "en": "Job centre",
        "da_in_text": "Jobcentret",
        "en_in_text": "the job centre",
    },
    Department.BUSINESS_SERVICE: {
        "da": "Erhvervsservice",
        "en": "Business service",
        "da_in_text": "Erhvervsservice",
        "en_in_text": "business service",
    },
    Department.PROCUREMENT: {
        "da": "Indkøb og udbud",
        "en": "Procurement",
        "da_in_text": "Indkøb og udbud",
        "en_in_text": "procurement",
    },
    Department.SOCIAL_SERVICES: {
        "da": "Socialforvaltningen",
        "en": "Social services",
        "da_in_text": "Socialforvaltningen",
        "en_in_text": "social services",
    },
    Department.CSR: {
        "da": "CSR-funktionen",
        "en": "CSR",
        "da_in_text": "CSR-funktionen",
        "en_in_text": "the CSR function",
    },
    Department.OUTSIDE_PROVIDER: {
        "da": "Ekstern samarbejdspartner",
        "en": "Outside provider",
        "da_in_text": "en ekstern samarbejdspartner",
        "en_in_text": "an outside partner",
    },
}


class RoutingReason(StrEnum):
    """Why a consultant got the case; the explanation of the routing policy."""

    CONTINUITY = "continuity"
    EXPERTISE = "expertise"
    CAPACITY = "capacity"
    LEAST_LOADED = "least_loaded"
    DEPUTY = "deputy"
    MANUAL = "manual"


class CaseStatus(StrEnum):
    """A case's lifecycle: new → assigned → in_progress → waiting → closed (→ reopened)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    CLOSED = "closed"


class ReferralStatus(StrEnum):
    """Where a referral stands; the target department or provider answers it."""

    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"


class ContactChannel(StrEnum):
    """How the consultant made contact."""

    PHONE = "phone"
    EMAIL = "email"
    MEETING = "meeting"
    VIDEO = "video"


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class RsvCriterion(StrEnum):
    """The five registration criteria of lov nr. 711 af 25. juni 2014 om registrerede
    socialøkonomiske virksomheder, § 5 (the law's wording is what counts)."""

    SOCIAL_PURPOSE = "social_purpose"
    COMMERCIAL_ACTIVITY = "commercial_activity"
    INDEPENDENCE = "independence"
    INCLUSIVE_GOVERNANCE = "inclusive_governance"
    SOCIAL_PROFIT_HANDLING = "social_profit_handling"


class RsvCriterionStatus(StrEnum):
    """How far the enterprise is with one criterion, as the consultant judges it."""

    MET = "met"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"


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
    received_by: str | None = Field(
        default=None,
        description="Staff id or department system that registered the inquiry on the "
        "inquirer's behalf (phone, e-mail, walk-in, forwarded); null for the public form.",
    )
    follow_up_of: str | None = Field(
        default=None,
        description="Inquiry id of the organisation's previous inquiry when this one is a "
        "follow-up (repeat contact); routing keeps it with the same consultant.",
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
    contact: ContactPerson | None = Field(
        default=None,
        description="The inquirer, so they can be introduced to their one consultant.",
    )
    previous_consultant_id: str | None = Field(
        default=None, description="The former owner on reassignment; null on first routing."
    )
    reason: RoutingReason = Field(description="Which rule of the routing policy decided.")
    explanation: str = Field(description="The reason in plain words, for people.")
    first_contact_due: date = Field(
        description="The consultant must contact the inquirer by this date (working days)."
    )
    routed_at: datetime = Field(description="When the routing decision was made (UTC).")
    follow_up: bool = Field(
        default=False,
        description=(
            "True when a later inquiry joined the organisation's open case: the consultant"
            " hears of a new message and the inquirer is promised no new first contact."
        ),
    )
    case_reference: str | None = Field(
        default=None,
        description=(
            "On a follow-up, the case's own reference (its first inquiry's), the one the"
            " enterprise keeps; `reference` is the new inquiry's."
        ),
    )

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
    message_to_enterprise: str | None = Field(
        default=None,
        max_length=1000,
        description=(
            "What the enterprise is told about this referral, in plain language, written"
            " for it by the consultant. `purpose` is for the target alone and is never"
            " shown to the enterprise; null: the enterprise gets a standard line."
        ),
    )

    @model_validator(mode="after")
    def _contact_only_with_consent(self) -> ReferralMade:
        if self.contact is not None and not self.consent_to_share_contact:
            raise ValueError("contact details may only be sent with the inquirer's consent")
        return self

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class CaseStatusChanged(Event):
    """A case moved in its lifecycle (first contact logged, waiting, closed, reopened)."""

    EVENT_NAME: ClassVar[str] = "case-status-changed"

    case_id: str = Field(description="The case's id.")
    reference: str = Field(description="The inquiry's reference.")
    organisation_key: str = Field(description="See inquiry-received.organisation_key.")
    status: CaseStatus = Field(description="The new status.")
    previous_status: CaseStatus = Field(description="The status before the change.")
    reopened: bool = Field(default=False, description="True when a closed case was reopened.")
    consultant_id: str = Field(description="The owning consultant (unchanged by status changes).")
    changed_by: str = Field(description="Staff id of who made the change.")
    changed_at: datetime = Field(description="When (UTC).")
    first_contact_channel: ContactChannel | None = Field(
        default=None, description="How first contact was made, when this change logs it."
    )
    first_contact_at: datetime | None = Field(
        default=None, description="When first contact was made, when this change logs it."
    )
    outcome: str | None = Field(
        default=None,
        max_length=2000,
        description="The outcome, when the case is closed (staff's words, not sent out).",
    )
    message_to_enterprise: str | None = Field(
        default=None,
        max_length=1000,
        description=(
            "When the case is closed: why, in plain language for the enterprise, which is"
            " told by mail; null when it is not to be told (e.g. it asked for the closing)."
        ),
    )

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class FirstContactOverdue(Event):
    """A case's first-contact deadline passed without contact (published once per case)."""

    EVENT_NAME: ClassVar[str] = "first-contact-overdue"

    case_id: str = Field(description="The case's id.")
    reference: str = Field(description="The inquiry's reference.")
    organisation_name: str = Field(description="The organisation's name.")
    consultant: Consultant = Field(description="The owning consultant, to be reminded.")
    team_lead_email: EmailStr | None = Field(
        default=None, description="The team lead, to be told as well."
    )
    first_contact_due: date = Field(description="The deadline that passed.")
    detected_at: datetime = Field(description="When the overdue case was found (UTC).")

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class ReferralOutcome(_Model):
    """What came of a completed referral, e.g. people employed with support."""

    summary: str = Field(min_length=1, max_length=2000, description="What was done, in words.")
    wage_subsidy_hires: int = Field(default=0, ge=0, description="People hired with løntilskud.")
    work_placements: int = Field(default=0, ge=0, description="Virksomhedspraktik placements.")
    flex_jobs: int = Field(default=0, ge=0, description="Fleksjob hires.")
    other_hires: int = Field(default=0, ge=0, description="Other hires.")


class ReferralUpdated(Event):
    """The target of a referral answered it: accepted, declined (why) or completed (outcome).

    Published only by routing, when a department or an outside provider answers through
    routing's department API (no other principal may write this topic); routing applies it
    to the case, whose consultant stays the owner.
    """

    EVENT_NAME: ClassVar[str] = "referral-updated"

    referral_id: str = Field(description="The referral answered.")
    case_id: str = Field(description="The case it belongs to.")
    status: ReferralStatus = Field(description="accepted, declined or completed.")
    reason: str | None = Field(
        default=None, max_length=2000, description="Why, when declined (required then)."
    )
    outcome: ReferralOutcome | None = Field(
        default=None, description="What came of it, when completed (required then)."
    )
    answered_by: Department = Field(description="The department (or provider) answering.")
    answered_by_provider_id: str | None = Field(
        default=None, description="The outside provider's id, when a provider answers."
    )
    answered_at: datetime = Field(description="When (UTC).")
    reference: str | None = Field(
        default=None,
        description=(
            "The case's reference, the one the enterprise knows (its first inquiry's;"
            " referral-made.reference is the same). Null only on events from before"
            " 2026-12."
        ),
    )
    consultant: Consultant | None = Field(
        default=None,
        description="The case's owning consultant, who is told of the answer.",
    )
    recorded_by: str | None = Field(
        default=None,
        description=(
            "Staff id of the consultant who recorded an answer the target gave by phone"
            " or mail, on its behalf; null when the target answered through the API."
        ),
    )

    @model_validator(mode="after")
    def _answer_is_complete(self) -> ReferralUpdated:
        if self.status is ReferralStatus.SENT:
            raise ValueError("an answer must accept, decline or complete the referral")
        if self.status is ReferralStatus.DECLINED and not self.reason:
            raise ValueError("a declined referral needs a reason")
        if self.status is ReferralStatus.COMPLETED and self.outcome is None:
            raise ValueError("a completed referral needs an outcome")
        return self

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class ReferralOverdue(Event):
    """A referral's answer deadline passed with no answer (published once per referral)."""

    EVENT_NAME: ClassVar[str] = "referral-overdue"

    referral_id: str = Field(description="The referral not answered.")
    case_id: str = Field(description="The case it belongs to.")
    reference: str = Field(description="The case's reference (see referral-made).")
    organisation_name: str = Field(description="The organisation's name.")
    target: ReferralTarget = Field(description="Who has not answered.")
    target_name: str = Field(description="The target's name, for people.")
    consultant: Consultant = Field(description="The owning consultant, to be reminded.")
    response_due: date = Field(description="The answer deadline that passed.")
    detected_at: datetime = Field(description="When the overdue referral was found (UTC).")

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class MessageToEnterprise(Event):
    """The consultant wrote to the enterprise from the case; notifications mails it.

    Replies go to the consultant (Reply-To)."""

    EVENT_NAME: ClassVar[str] = "message-to-enterprise"

    message_id: str = Field(description="The message's id (UUID).")
    case_id: str = Field(description="The case.")
    reference: str = Field(description="The case's reference, put in the subject line.")
    contact: ContactPerson = Field(description="Who receives it.")
    consultant: Consultant = Field(description="Who wrote it (the one contact).")
    subject_line: str = Field(min_length=1, max_length=200, description="The mail's subject.")
    body: str = Field(min_length=1, max_length=5000, description="The message (plain text).")
    written_at: datetime = Field(description="When (UTC).")

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class CaseContactChanged(Event):
    """The consultant corrected the contact person's details on a case.

    Later messages about the case go to the new details."""

    EVENT_NAME: ClassVar[str] = "case-contact-changed"

    case_id: str = Field(description="The case.")
    reference: str = Field(description="The case's reference.")
    contact: ContactPerson = Field(description="The contact person as now recorded.")
    changed_by: str = Field(description="Staff id of who changed it.")
    changed_at: datetime = Field(description="When (UTC).")

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


Count = Annotated[int, Field(ge=0, le=10_000)]


class CaseOutcomeRecorded(Event):
    """The consultant recorded social value the case brought about (issue 14): people
    employed through the enterprise by instrument, RSV registration helped, supplier
    agreements and social clauses won, for the period `occurred_on` belongs to.

    Corrections: a recording with an `outcome_id` seen before replaces that recording
    entirely. A read model keeps, per `outcome_id`, the recording with the latest
    `recorded_at` (routing makes each replacement strictly later than the one it
    replaces) and counts it unless `withdrawn`; so redelivered and reordered events give
    the same figures. A withdrawn recording has every count 0 and the flag false."""

    EVENT_NAME: ClassVar[str] = "case-outcome-recorded"

    outcome_id: str = Field(description="The recording's id (UUID); a correction keeps it.")
    case_id: str = Field(description="The case.")
    reference: str = Field(description="The case's reference.")
    consultant_id: str = Field(description="The case's consultant when recorded.")
    organisation_key: str = Field(description="The organisation (as on inquiry-received).")
    wage_subsidy_hires: Count = Field(description="People employed with wage subsidy.")
    flex_jobs: Count = Field(description="People employed in a flexjob.")
    work_placements: Count = Field(description="People in a work placement (praktik).")
    ordinary_hires: Count = Field(description="People employed on ordinary terms.")
    rsv_registration_helped: bool = Field(
        description="The consultant helped the enterprise to RSV registration."
    )
    supplier_agreements: Count = Field(description="Supplier agreements won.")
    social_clauses: Count = Field(description="Contracts with social clauses won.")
    occurred_on: date = Field(
        description="The day the outcome belongs to (reports bucket by it; Danish date)."
    )
    withdrawn: bool = Field(
        default=False,
        description="True: this replaces the recording with nothing (it counts nothing).",
    )
    recorded_by: str = Field(description="Staff id of who recorded it.")
    recorded_at: datetime = Field(description="When (UTC); later for each replacement.")

    @model_validator(mode="after")
    def _withdrawn_counts_nothing(self) -> CaseOutcomeRecorded:
        if self.withdrawn and (self.people_employed() or self.rsv_registration_helped):
            raise ValueError("a withdrawn recording has every count 0")
        if self.withdrawn and (self.supplier_agreements or self.social_clauses):
            raise ValueError("a withdrawn recording has every count 0")
        return self

    def people_employed(self) -> int:
        return self.wage_subsidy_hires + self.flex_jobs + self.work_placements + self.ordinary_hires

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class RsvReadinessChanged(Event):
    """The consultant changed the case's RSV readiness checklist (the five criteria of
    lov nr. 711/2014 § 5, each met / not yet / unknown) or marked the enterprise
    RSV-registered. Each event is the whole checklist: a read model keeps, per case, the
    event with the latest `changed_at`."""

    EVENT_NAME: ClassVar[str] = "rsv-readiness-changed"

    case_id: str = Field(description="The case.")
    reference: str = Field(description="The case's reference.")
    consultant_id: str = Field(description="The case's consultant.")
    organisation_key: str = Field(description="The organisation (as on inquiry-received).")
    criteria: dict[RsvCriterion, RsvCriterionStatus] = Field(
        description="Every one of the five criteria with its status."
    )
    ready: bool = Field(description="All five criteria are met.")
    registered: bool = Field(description="The enterprise is RSV-registered.")
    registered_on: date | None = Field(
        default=None, description="The day it was registered (when registered)."
    )
    changed_by: str = Field(description="Staff id of who changed it.")
    changed_at: datetime = Field(description="When (UTC).")

    @model_validator(mode="after")
    def _whole_and_consistent(self) -> RsvReadinessChanged:
        if set(self.criteria) != set(RsvCriterion):
            raise ValueError("criteria must name each of the five criteria")
        if self.ready != all(s is RsvCriterionStatus.MET for s in self.criteria.values()):
            raise ValueError("ready is true exactly when every criterion is met")
        if self.registered != (self.registered_on is not None):
            raise ValueError("registered_on is given exactly when registered")
        return self

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class SharedEntry(_Model):
    """A guide entry as sent to an inquirer."""

    id: str = Field(description="The guide entry's id.")
    title: str = Field(description="Its title.")
    summary: str = Field(description="Its short summary.")
    url: str | None = Field(default=None, description="Where to read more, if public.")


class GuideEntriesShared(Event):
    """A consultant chose guide entries (external audience only) to send to the inquirer."""

    EVENT_NAME: ClassVar[str] = "guide-entries-shared"

    case_id: str = Field(description="The case.")
    reference: str = Field(description="The inquiry's reference.")
    contact: ContactPerson = Field(description="Who receives them.")
    consultant: Consultant = Field(description="Who sends them (the one contact).")
    entries: list[SharedEntry] = Field(min_length=1, max_length=20, description="The entries.")
    message: str | None = Field(
        default=None, max_length=2000, description="A personal note from the consultant."
    )
    shared_at: datetime = Field(description="When (UTC).")

    def subject(self) -> str:
        return self.case_id

    def partition_key(self) -> str:
        return self.case_id


class GuideEntryPublished(Event):
    """A guide entry was published (new or a new version), so other systems can follow."""

    EVENT_NAME: ClassVar[str] = "guide-entry-published"

    entry_id: str = Field(description="The entry's id.")
    version: int = Field(ge=1, description="The published version number.")
    title: str = Field(description="The entry's title.")
    section: str = Field(description="The guide section (one of the seed's four).")
    kind: str = Field(description="article, legislation, support_scheme or offer.")
    audience: str = Field(description="internal, or external (may be sent to inquirers).")
    published_by: str = Field(description="Staff id of the editor.")
    published_at: datetime = Field(description="When (UTC).")

    def subject(self) -> str:
        return self.entry_id

    def partition_key(self) -> str:
        return self.entry_id


class _DeliveryOutcome(Event):
    delivery_id: str = Field(description="The delivery's id in the delivery log.")
    event_id: str = Field(description="The CloudEvent id of the event that caused it.")
    event_type: str = Field(description="The CloudEvent type of that event.")
    message_kind: str = Field(description="What was sent, e.g. 'receipt', 'case_assigned'.")
    channel: DeliveryChannel = Field(description="email or webhook.")
    recipient_role: str = Field(
        description="inquirer, consultant, team_lead, department or subscriber."
    )
    case_id: str | None = Field(default=None, description="The case it concerns, if any.")
    inquiry_id: str | None = Field(default=None, description="The inquiry, if any.")
    attempts: int = Field(ge=1, description="Attempts made.")

    def subject(self) -> str:
        return self.case_id or self.inquiry_id or self.delivery_id

    def partition_key(self) -> str:
        return self.subject()


class NotificationDelivered(_DeliveryOutcome):
    """A message was delivered (so a case timeline can show 'receipt sent 10:02')."""

    EVENT_NAME: ClassVar[str] = "notification-delivered"

    delivered_at: datetime = Field(description="When (UTC).")


class NotificationFailed(_DeliveryOutcome):
    """A message could not be delivered after all retries; the delivery is dead."""

    EVENT_NAME: ClassVar[str] = "notification-failed"

    error: str = Field(max_length=2000, description="The last error.")
    failed_at: datetime = Field(description="When it was given up (UTC).")


EVENT_TYPES: dict[str, type[Event]] = {
    model.ce_type(): model
    for model in (
        InquiryReceived,
        CaseRouted,
        ReferralMade,
        CaseStatusChanged,
        FirstContactOverdue,
        ReferralUpdated,
        ReferralOverdue,
        MessageToEnterprise,
        CaseContactChanged,
        CaseOutcomeRecorded,
        RsvReadinessChanged,
        GuideEntriesShared,
        GuideEntryPublished,
        NotificationDelivered,
        NotificationFailed,
    )
}
