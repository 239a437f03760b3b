"""Reporting's configuration: the only module that reads the environment."""

from __future__ import annotations

from pydantic import Field

from indgang_runtime.settings import (
    MAKE_A_SECRET,
    MIN_SECRET_LENGTH,
    ServiceSettings,
    is_development_secret,
)

# deploy/services.sh's key for the reports' JSON under make up (public, refused in production).
DEVELOPMENT_REPORTS_API_KEY = "dev-reports-key"


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8005
    mongodb_database: str = "indgang_reporting"
    reports_api_key: str | None = Field(
        default=None,
        description="Key for the municipality's BI tools to read the reports' JSON and CSV "
        "(header X-Reports-Key); unset: only signed-in team leads and management.",
    )

    purge_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the reasons of declines older than three years are removed.",
    )

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        key = self.reports_api_key
        if key is not None and (
            is_development_secret(key, DEVELOPMENT_REPORTS_API_KEY) or len(key) < MIN_SECRET_LENGTH
        ):
            problems.append(
                "REPORTS_API_KEY is a public development value or too short: set a random "
                f"value of at least {MIN_SECRET_LENGTH} characters ({MAKE_A_SECRET}), or unset it."
            )
        return problems
