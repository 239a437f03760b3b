"""Notifications' configuration: the only module that reads the environment."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

from pydantic import Field, field_validator

from indgang_notifications.domain.addresses import IPNetwork, networks, url_problem
from indgang_notifications.domain.retention import (
    DELIVERY_MAX_RETENTION_DAYS,
    DELIVERY_RETENTION_DAYS,
)
from indgang_runtime.settings import (
    MAKE_A_SECRET,
    MIN_SECRET_LENGTH,
    ServiceSettings,
    in_development_files,
    is_development_secret,
)

_HERE = Path(__file__).parent
# Where make up's and the tests' local webhook receivers listen (development only).
DEVELOPMENT_NETWORKS: tuple[IPNetwork, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
_LOOPBACK = {4: ip_network("127.0.0.0/8"), 6: ip_network("::1/128")}
# deploy/services.sh's admin key for make up (public, refused in production).
DEVELOPMENT_ADMIN_API_KEY = "dev-admin-key"


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
    routing_public_url: str = Field(
        default="http://127.0.0.1:8002", description="Where staff open cases (links in mails)."
    )
    departments_file: Path = Field(
        default=_HERE / "data" / "departments.toml",
        description="Department mailboxes for referrals (TOML).",
    )
    subscriptions_file: Path = Field(
        default=_HERE / "data" / "subscriptions.toml",
        description="Subscriptions (webhooks, extra mailboxes), loaded into the store at start.",
    )
    templates_dir: Path = Field(
        default=_HERE / "templates" / "mail", description="Jinja2 message templates (editable)."
    )
    staff_language: str = Field(
        default="da", pattern=r"^(da|en)$", description="Language of messages to staff."
    )
    admin_api_key: str | None = Field(
        default=None,
        description="Key for the subscriptions API and delivery API (header X-Admin-Key); "
        "unset: those routes answer 503 to key holders, staff sessions still work.",
    )
    max_attempts: int = Field(default=8, ge=1, description="Attempts per delivery cycle.")
    retry_base_seconds: float = Field(
        default=30.0, gt=0, description="First retry delay; doubles per attempt (with jitter)."
    )
    retry_max_seconds: float = Field(default=3600.0, gt=0, description="Longest retry delay.")
    sender_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the sender looks for due deliveries."
    )
    sender_concurrency: int = Field(
        default=8,
        ge=1,
        description="Deliveries sent at once, each worker on an SMTP connection of its own "
        "(measured on 2 cores: 8 sent ~1.3x as much as 4; 16 no more than 8).",
    )
    delivery_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a sender owns a claimed delivery; after a crash it is "
        "retried when the lease runs out.",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_allow_plain_http: bool = Field(
        default=False, description="Allow http:// webhook URLs (development and tests only)."
    )
    webhook_allowed_networks: str | None = Field(
        default=None,
        description="Addresses or networks (CIDR, separated by commas) webhooks may reach "
        "although they are not public, e.g. a receiver on the municipality's own network. "
        "Unset: loopback in development (make up's and the tests' local receivers), none in "
        "production. Cloud metadata addresses are refused in any case.",
    )
    case_contact_retention_days: int = Field(
        default=30, ge=0, description="Days a closed case's contact details are kept."
    )
    delivery_retention_days: int = Field(
        default=DELIVERY_RETENTION_DAYS,
        ge=0,
        description="Days after a case closes that its deliveries keep recipient, subject "
        "and body (the privacy notice: 365); then they are anonymised.",
    )
    delivery_max_retention_days: int = Field(
        default=DELIVERY_MAX_RETENTION_DAYS,
        ge=0,
        description="Days any delivery keeps recipient, subject and body, and any case its "
        "contact details, at most, open case or none (the privacy notice: three years "
        "after receipt).",
    )
    first_contact_working_days: int = Field(
        default=3,
        ge=1,
        description="Working days until the consultant contacts the inquirer, promised in "
        "the receipt (the same variable as intake's page and routing's deadline).",
    )
    contact_wait_minutes: float = Field(
        default=15.0,
        description="How long a referral waits for its case-routed (the inquirer's address) "
        "before it is dead-lettered.",
    )
    purge_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often expired case contacts are deleted and expired deliveries "
        "anonymised.",
    )

    @property
    def webhook_networks(self) -> tuple[IPNetwork, ...]:
        """Where webhooks may go besides public addresses."""
        if self.webhook_allowed_networks is not None:
            return networks(self.webhook_allowed_networks)
        return DEVELOPMENT_NETWORKS if self.environment == "development" else ()

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str | None) -> str | None:
        if value is not None:
            networks(value)  # raises ValueError with the bad entry
        return value

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        key = self.admin_api_key
        if key is not None and is_development_secret(key, DEVELOPMENT_ADMIN_API_KEY):
            problems.append(
                "ADMIN_API_KEY is a public development value: anyone could edit the "
                f"subscriptions. Set a random value of at least {MIN_SECRET_LENGTH} characters "
                f"({MAKE_A_SECRET}), or unset it (the key holders' APIs then answer 503)."
            )
        elif key is not None and len(key) < MIN_SECRET_LENGTH:
            problems.append(
                f"ADMIN_API_KEY has {len(key)} characters: set a random value of at least "
                f"{MIN_SECRET_LENGTH} ({MAKE_A_SECRET}), or unset it."
            )
        if self.webhook_allow_plain_http:
            problems.append(
                "WEBHOOK_ALLOW_PLAIN_HTTP is true: events with personal data would be sent "
                "unencrypted. Unset it (webhooks then need https:// URLs)."
            )
        loopback = [str(n) for n in self.webhook_networks if n.overlaps(_LOOPBACK[n.version])]
        if loopback:
            problems.append(
                f"WEBHOOK_ALLOWED_NETWORKS contains loopback ({', '.join(loopback)}): webhooks "
                "could reach services on the server itself. Remove it."
            )
        problems.extend(self._subscription_problems())
        return problems

    def _subscription_problems(self) -> list[str]:
        # Read as the service reads it at start (imported here: settings come first).
        from indgang_notifications.adapters.subscriptions import read_file

        where = f"SUBSCRIPTIONS_FILE ({self.subscriptions_file})"
        if in_development_files(self.subscriptions_file):
            return [
                f"{where} is the development subscriptions file (a local test receiver, "
                "public secrets). Unset it for the packaged file, or set it to your own."
            ]
        try:
            entries = read_file(self.subscriptions_file)
        except Exception as exc:
            return [f"{where} cannot be read ({type(exc).__name__}: {exc}): fix the file."]
        refused = [
            f"{subscription.id} ({problem})"
            for subscription, _ in entries
            if subscription.url
            and (
                problem := url_problem(
                    subscription.url,
                    allow_plain_http=self.webhook_allow_plain_http,
                    allowed=self.webhook_networks,
                )
            )
        ]
        if refused:
            return [
                f"{where}: the webhook URL of {', '.join(refused)} is not allowed: a webhook "
                "needs an https:// URL of a public address."
            ]
        public = [
            subscription.id
            for subscription, _ in entries
            if subscription.secret is not None and is_development_secret(subscription.secret)
        ]
        if public:
            return [
                f"{where}: the webhook secret of {', '.join(public)} is a public development "
                f"or example value. Give each subscriber its own random secret ({MAKE_A_SECRET})."
            ]
        return []
