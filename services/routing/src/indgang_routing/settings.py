"""Routing's configuration: the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from indgang_runtime.settings import ServiceSettings

_PACKAGED_TEAM = Path(__file__).parent / "data" / "team.toml"


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    http_port: int = 8002
    mongodb_database: str = "indgang_routing"
    team_file: Path = Field(default=_PACKAGED_TEAM, description="The consultant team (TOML).")
    first_contact_working_days: int = Field(
        default=3, ge=1, description="Working days (Danish holidays excluded) to first contact."
    )
