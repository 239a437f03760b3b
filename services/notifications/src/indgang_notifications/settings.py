"""Notifications' configuration: the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from indgang_runtime.settings import ServiceSettings

_HERE = Path(__file__).parent


class NotificationSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = 8003
    mongodb_database: str = "indgang_notifications"
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server.")
    smtp_port: int = Field(default=1025, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user, if any.")
    smtp_password: str | None = Field(default=None, description="SMTP password, if any.")
    smtp_starttls: bool = Field(default=False, description="Upgrade with STARTTLS.")
    smtp_tls: bool = Field(default=False, description="Implicit TLS (port 465).")
    smtp_timeout_seconds: float = Field(default=10.0)
    mail_from: str = Field(
        default="Én indgang <en-indgang@kommune.example>", description="Sender address."
    )
    municipality_name: str = Field(default="Ikast-Brande Kommune")
    routing_public_url: str = Field(
        default="http://127.0.0.1:8002", description="Where staff open cases (links in mails)."
    )
    departments_file: Path = Field(
        default=_HERE / "data" / "departments.toml",
        description="Department mailboxes for referrals (TOML).",
    )
    templates_dir: Path = Field(
        default=_HERE / "templates", description="Jinja2 message templates (editable)."
    )
