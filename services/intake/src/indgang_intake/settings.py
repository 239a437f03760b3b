"""Intake's configuration: the only module that reads the environment."""

from __future__ import annotations

from typing import ClassVar

from limits import parse
from pydantic import Field, field_validator

from indgang_intake.domain.retention import DEFAULT_IDEMPOTENCY_HOURS
from indgang_runtime.deadline_days import DEFAULT_DAYS_AFTER_CLOSE, DEFAULT_DAYS_MAX
from indgang_runtime.phone import (
    DEVELOPMENT_UNIT_ADDRESS,
    DEVELOPMENT_UNIT_NAME,
    DEVELOPMENT_UNIT_PHONE,
    UnitContact,
    unit_contact_problems,
)
from indgang_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    reads_api_keys: ClassVar[bool] = True  # department systems call in (API_KEYS_FILE)

    service_name: str = "intake"
    http_port: int = 8001
    mongodb_database: str = "indgang_intake"
    privacy_notice_version: str = Field(
        default="2026-12", description="Version of the privacy notice shown with the form."
    )

    # What the pages say.
    guide_public_url: str = Field(
        default="http://127.0.0.1:8004/hjaelp",
        description="The guide's public page 'Hvad kan kommunen hjælpe med?'.",
    )
    unit_name: str = Field(
        default=DEVELOPMENT_UNIT_NAME,
        description="The unit that answers the inquiry, named beside the form and receipt; "
        "the default is a development placeholder, refused in production.",
    )
    unit_phone: str = Field(
        default=DEVELOPMENT_UNIT_PHONE,
        description="The unit's phone number (shown the Danish way, e.g. 12 34 56 78); "
        "the default is a development placeholder, refused in production.",
    )
    unit_address: str = Field(
        default=DEVELOPMENT_UNIT_ADDRESS,
        description="The unit's visiting address (one line); the default is a development "
        "placeholder, refused in production.",
    )
    first_contact_working_days: int = Field(
        default=3,
        ge=1,
        description="Working days until the consultant contacts the inquirer (as in routing).",
    )
    dpo_email: str = Field(
        default="databeskyttelse@kommune.example",
        description="The municipality's data protection officer (privacy notice).",
    )
    contact_email: str = Field(
        default="socialoekonomi@kommune.example",
        description="Where people write about the service or its accessibility.",
    )

    # Abuse.
    rate_limit_public: str = Field(
        default="10/minute",
        description="Submissions per client IP (web form and public API together), moving "
        "window, in memory per instance; syntax of the `limits` library.",
    )
    rate_limit_department: str = Field(
        default="600/minute", description="Submissions per department API key."
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )

    # Deletion deadlines (slettefrister).
    retention_days_after_close: int = Field(
        default=DEFAULT_DAYS_AFTER_CLOSE,
        ge=1,
        description="Days after the case is closed until the inquiry's contact data is anonymised.",
    )
    retention_days_max: int = Field(
        default=DEFAULT_DAYS_MAX,
        ge=1,
        description="Days after receipt until contact data is anonymised, closed or not.",
    )
    idempotency_retention_hours: int = Field(
        default=DEFAULT_IDEMPOTENCY_HOURS,
        ge=1,
        description="Hours an Idempotency-Key's first answer is kept.",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the deletion job runs."
    )

    @property
    def unit(self) -> UnitContact:
        return UnitContact.of(self.unit_name, self.unit_phone, self.unit_address)

    def production_problems(self) -> list[str]:
        # The form and the receipt name the unit: never a made-up one (issue 13, pts 9-10).
        return super().production_problems() + unit_contact_problems(
            self.unit_name, self.unit_phone, self.unit_address
        )

    @field_validator("rate_limit_public", "rate_limit_department")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse(value)
        return value
