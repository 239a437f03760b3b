"""Intake's configuration: the only module that reads the environment."""

from __future__ import annotations

from pydantic import Field

from indgang_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001
    mongodb_database: str = "indgang_intake"
    privacy_notice_version: str = Field(
        default="2026-11", description="Version of the privacy notice shown with the form."
    )
