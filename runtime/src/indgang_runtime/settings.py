"""Settings every service reads from the environment (pydantic-settings).

Each service subclasses `ServiceSettings` with its own defaults (name, port,
database); `settings.py` in each service is the only place that reads the
environment. Standard variable names are used where they exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = Field(description="Service name; CloudEvent source and consumer group.")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers (comma-separated)."
    )
    mongodb_uri: str = Field(
        default="mongodb://127.0.0.1:27017", description="MongoDB-compatible store URI."
    )
    mongodb_database: str = Field(description="This service's own database.")
    mongodb_write_concern: int | str = Field(
        default="majority",
        description="Write concern `w` of every write. 'majority' (with journaling) "
        "survives a replica-set primary failover; a smaller number acknowledges "
        "sooner but may lose acknowledged writes in a failover.",
    )

    @field_validator("mongodb_write_concern", mode="before")
    @classmethod
    def _w_as_number(cls, value: object) -> object:
        # From the environment everything is text: "1" means one node, "majority" a tag.
        return int(value) if isinstance(value, str) and value.isdigit() else value

    mongodb_journal: bool = Field(
        default=True, description="Acknowledge a write only once it is in the journal."
    )
    mongodb_wtimeout_ms: int = Field(
        default=10_000,
        ge=1,
        description="How long a write waits for its write concern before it fails "
        "(and is retried) instead of waiting forever for a majority that is gone.",
    )
    http_host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    http_port: int = Field(description="HTTP listen port.")
    municipality_code: str = Field(
        default="756", pattern=r"^\d{3}$", description="Kommunekode served (756 Ikast-Brande)."
    )
    municipality_name: str = Field(
        default="Ikast-Brande Kommune",
        description="The municipality's name on every page and in every mail.",
    )
    log_level: str = Field(default="INFO", description="Log level.")
    outbox_poll_seconds: float = Field(
        default=2.0,
        description="How often the outbox relay looks for unpublished events it was not "
        "told about (local writes are published at once). One indexed lookup per "
        "collection, whatever the data size.",
    )
    outbox_takeover_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long events another instance left unpublished (it crashed or "
        "stopped) wait before this instance's relay publishes them.",
    )
    instance_id: str | None = Field(
        default=None,
        description="This instance's name for the outbox relay; defaults to host:port, "
        "stable across restarts. Must differ between instances that run at once.",
    )
    outbox_batch_size: int = Field(
        default=200, ge=1, description="Most documents the outbox relay publishes per batch."
    )
    consumer_batch_size: int = Field(
        default=100,
        ge=1,
        description="Most records a batch consumer takes from one poll and stores together.",
    )
    kafka_topic_prefix: str = Field(
        default="",
        description="Prefix for every topic name, so several environments (or test runs) "
        "can share one Kafka cluster.",
    )
    consumer_group: str | None = Field(
        default=None, description="Kafka consumer group; defaults to 'indgang-<service>'."
    )

    # Staff sign-in and department API keys (indgang_runtime.auth).
    auth_mode: Literal["local", "oidc"] = Field(
        default="local", description="'oidc' in production; 'local' uses USERS_FILE."
    )
    users_file: Path = Field(
        default=Path("deploy/dev/users.toml"), description="Local staff users (development)."
    )
    session_secret: str = Field(
        default="indgang-development-only-session-secret",
        description="Signs session cookies; set a long random value in production.",
    )
    session_https_only: bool = Field(default=False, description="Secure cookies (HTTPS).")
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect issuer URL.")
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: str | None = Field(default=None, description="OIDC client secret.")
    oidc_roles_claim: str = Field(default="roles", description="Claim that carries roles.")
    api_keys_file: Path = Field(
        default=Path("deploy/dev/api-keys.toml"),
        description="Department systems' API keys (SHA-256 hashes).",
    )
    accessibility_statement_url: str = Field(
        default="http://127.0.0.1:8001/tilgaengelighed",
        description="The accessibility statement linked from every page's footer.",
    )

    @property
    def group_id(self) -> str:
        # Prefixed like the topics, so a test run or a second environment on the
        # same cluster never joins (and rebalances) the real consumer group.
        return self.consumer_group or f"{self.kafka_topic_prefix}indgang-{self.service_name}"

    def topic(self, name: str) -> str:
        """The real topic name for a contract topic name."""
        return f"{self.kafka_topic_prefix}{name}"

    @property
    def event_source(self) -> str:
        return f"/indgang/{self.service_name}"
