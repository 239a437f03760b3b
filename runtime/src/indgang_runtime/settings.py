"""Settings every service reads from the environment (pydantic-settings).

Each service subclasses `ServiceSettings` with its own defaults (name, port,
database); `settings.py` in each service is the only place that reads the
environment. Standard variable names are used where they exist.
"""

from __future__ import annotations

from pydantic import Field
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
    http_host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    http_port: int = Field(description="HTTP listen port.")
    municipality_code: str = Field(
        default="756", pattern=r"^\d{3}$", description="Kommunekode served (756 Ikast-Brande)."
    )
    log_level: str = Field(default="INFO", description="Log level.")
    outbox_poll_seconds: float = Field(
        default=0.5, description="How often the outbox relay looks for unpublished events."
    )
    kafka_topic_prefix: str = Field(
        default="",
        description="Prefix for every topic name, so several environments (or test runs) "
        "can share one Kafka cluster.",
    )
    consumer_group: str | None = Field(
        default=None, description="Kafka consumer group; defaults to 'indgang-<service>'."
    )

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"indgang-{self.service_name}"

    def topic(self, name: str) -> str:
        """The real topic name for a contract topic name."""
        return f"{self.kafka_topic_prefix}{name}"

    @property
    def event_source(self) -> str:
        return f"/indgang/{self.service_name}"
