"""Guide's configuration: the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from indgang_runtime.phone import (
    DEVELOPMENT_UNIT_ADDRESS,
    DEVELOPMENT_UNIT_NAME,
    DEVELOPMENT_UNIT_PHONE,
    UnitContact,
    unit_contact_problems,
)
from indgang_runtime.settings import ServiceSettings

# services/guide/content in the repository (and in the service's image).
_CONTENT = Path(__file__).resolve().parents[2] / "content"


class GuideSettings(ServiceSettings):
    service_name: str = "guide"
    http_port: int = 8004
    mongodb_database: str = "indgang_guide"
    content_dir: Path = Field(default=_CONTENT, description="Guide content files (TOML).")
    recommendations_per_case: int = Field(default=5, ge=1, le=20)
    catalogue_refresh_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often an instance looks for entries saved by other instances.",
    )
    intake_form_url: str = Field(
        default="http://127.0.0.1:8001/",
        description="The public inquiry form, linked from the public help page.",
    )
    # The unit, as intake shows it beside the form: the public entry pages show it too.
    unit_name: str = Field(
        default=DEVELOPMENT_UNIT_NAME,
        description="The unit that answers inquiries (as intake's UNIT_NAME); the default "
        "is a development placeholder, refused in production.",
    )
    unit_phone: str = Field(
        default=DEVELOPMENT_UNIT_PHONE,
        description="The unit's phone number (as intake's UNIT_PHONE); the default is a "
        "development placeholder, refused in production.",
    )
    unit_address: str = Field(
        default=DEVELOPMENT_UNIT_ADDRESS,
        description="The unit's visiting address (as intake's UNIT_ADDRESS); the default is "
        "a development placeholder, refused in production.",
    )

    @property
    def unit(self) -> UnitContact:
        return UnitContact.of(self.unit_name, self.unit_phone, self.unit_address)

    def production_problems(self) -> list[str]:
        # The public pages name the unit: never a made-up one (issue 13, points 9-10).
        return super().production_problems() + unit_contact_problems(
            self.unit_name, self.unit_phone, self.unit_address
        )
