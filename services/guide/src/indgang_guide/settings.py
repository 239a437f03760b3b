"""Guide's configuration: the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

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
