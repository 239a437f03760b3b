"""Routing's configuration: the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from indgang_runtime.deadline_days import DEFAULT_DAYS_AFTER_CLOSE, DEFAULT_DAYS_MAX
from indgang_runtime.settings import ServiceSettings

_DATA = Path(__file__).parent / "data"


class RoutingSettings(ServiceSettings):
    reads_api_keys: ClassVar[bool] = True  # department systems call in (API_KEYS_FILE)

    service_name: str = "routing"
    http_port: int = 8002
    mongodb_database: str = "indgang_routing"
    team_file: Path = Field(
        default=_DATA / "team.toml",
        description="The consultant team (TOML); seeds the store on first start.",
    )
    providers_file: Path = Field(
        default=_DATA / "providers.toml",
        description="Outside providers (TOML); seeds the store on first start.",
    )
    first_contact_working_days: int = Field(
        default=3, ge=1, description="Working days (Danish holidays excluded) to first contact."
    )
    overdue_check_seconds: float = Field(
        default=300.0, gt=0, description="How often overdue first contacts are looked for."
    )
    loads_reconcile_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the consultants' load counters are set to their numbers of "
        "open cases where they differ (also at every start).",
    )
    guide_url: str = Field(
        default="http://127.0.0.1:8004", description="The guide service, for recommendations."
    )
    guide_public_url: str = Field(
        default="http://127.0.0.1:8004",
        description="The municipality's public guide, as the enterprise reaches it: guide "
        "entries mailed from a case link to {GUIDE_PUBLIC_URL}/hjaelp/{entry id}.",
    )
    guide_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Timeout of calls to the guide; the case page waits no more."
    )
    # Deletion deadlines (slettefrister), as the privacy notice states them (intake's).
    retention_days_after_close: int = Field(
        default=DEFAULT_DAYS_AFTER_CLOSE,
        ge=1,
        description="Days after a case is closed until its personal data is anonymised.",
    )
    retention_days_max: int = Field(
        default=DEFAULT_DAYS_MAX,
        ge=1,
        description="Days after an inquiry was received until the case's personal data is "
        "anonymised, closed or not.",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the deletion job runs."
    )
