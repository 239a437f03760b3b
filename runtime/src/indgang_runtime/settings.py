"""Settings every service reads from the environment (pydantic-settings).

Each service subclasses `ServiceSettings` with its own defaults (name, port,
database); `settings.py` in each service is the only place that reads the
environment. Standard variable names are used where they exist.

`ENVIRONMENT` is `production` unless set: there a service refuses to start while
a secret is a public development value or too short, local users or development
keys are configured, or a required secret is missing (`check_production`, which
every composition root calls; `settings_or_exit` prints the list and exits).
`make up`, docker compose's development stack and the tests set
`ENVIRONMENT=development`.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Shortest secret accepted in production (SESSION_SECRET, notifications' ADMIN_API_KEY).
MIN_SECRET_LENGTH = 32
# How to make one, in every message that asks for one.
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
# The development secrets (deploy/services.sh, deploy/dev/) all start with this.
DEVELOPMENT_PREFIX = "dev-"
# The session secret of make up and the tests (the default: public, refused in production).
DEVELOPMENT_SESSION_SECRET = "indgang-development-only-session-secret"
# The placeholder in the packaged subscriptions.toml's example.
PLACEHOLDER_SECRET = "replace-with-a-long-random-secret"


def in_development_files(path: Path) -> bool:
    """True if `path` is in a `deploy/dev` folder (the repository's development users,
    keys and subscriptions, public like the secrets in them)."""
    for candidate in (path.absolute(), path.resolve()):
        parts = candidate.parts
        if any(parts[i : i + 2] == ("deploy", "dev") for i in range(len(parts) - 1)):
            return True
    return False


def is_development_secret(value: str, *known: str) -> bool:
    """A secret that is public: one of `known`, a `dev-…` value or the placeholder."""
    return value in known or value.startswith(DEVELOPMENT_PREFIX) or value == PLACEHOLDER_SECRET


class UnsafeForProduction(Exception):
    """ENVIRONMENT=production with settings that are not fit for it; `problems` lists
    each (what is wrong, which variable, what to do)."""

    def __init__(self, service: str, problems: list[str]) -> None:
        self.service = service
        self.problems = problems
        lines = "\n".join(f"  {n}. {problem}" for n, problem in enumerate(problems, 1))
        super().__init__(
            f"indgang-{service} refuses to start: ENVIRONMENT=production, and its "
            f"configuration is not safe for production "
            f"({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n{lines}\n"
            "Fix each, or set ENVIRONMENT=development on a development machine "
            "(make up, docker compose and the tests do)."
        )


# Kafka hosts that never leave the machine: PLAINTEXT to them is allowed in production
# (a broker on the same host, or a local TLS tunnel to the real one).
_LOOPBACK_NAMES = ("localhost", "ip6-localhost")


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bootstrap_hosts(bootstrap_servers: str) -> list[str]:
    """The hosts of a comma-separated `host:port` list (`[v6]:port` too)."""
    hosts = []
    for server in bootstrap_servers.split(","):
        server = server.strip()
        if server:
            hosts.append(
                server.rsplit(":", 1)[0] if server.count(":") == 1 or "]" in server else server
            )
    return hosts


class KafkaSecuritySettings(BaseSettings):
    """How the service's Kafka clients authenticate and encrypt (issue 12, finding 2): every
    client it makes — the FastStream broker, the topic admin, the offsets carry-over —
    uses these (`indgang_runtime.kafka_security`). Named as Kafka clients name them.

    `make up` and the tests use PLAINTEXT on loopback; production uses SASL_SSL with a
    principal per service, whose ACLs allow only its own topics (docs/kafka-security.md).
    """

    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="'SASL_SSL' (TLS, and SCRAM sign-in as KAFKA_SASL_USERNAME) in "
        "production; 'PLAINTEXT' only to a broker on loopback (make up, the tests).",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism with SASL_SSL."
    )
    kafka_sasl_username: str | None = Field(
        default=None,
        description="This service's Kafka principal (User:<name>), e.g. indgang-routing.",
    )
    kafka_sasl_password: str | None = Field(
        default=None, description="That principal's SCRAM password."
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the brokers' certificates; unset: the "
        "system's trusted CAs. The broker's host name is always checked.",
    )

    def kafka_problems(self, bootstrap_servers: str) -> list[str]:
        """Why these Kafka settings are unfit for production, one sentence each."""
        if self.kafka_security_protocol == "PLAINTEXT":
            remote = [h for h in bootstrap_hosts(bootstrap_servers) if not is_loopback_host(h)]
            if not remote:
                return []
            return [
                f"KAFKA_SECURITY_PROTOCOL=PLAINTEXT to {', '.join(remote)}: anyone on that "
                "network could read every referral and forge events. Set "
                "KAFKA_SECURITY_PROTOCOL=SASL_SSL with KAFKA_SASL_USERNAME, "
                "KAFKA_SASL_PASSWORD and KAFKA_SSL_CA_FILE (docs/kafka-security.md)."
            ]
        problems = [
            f"{variable} is not set: KAFKA_SECURITY_PROTOCOL=SASL_SSL needs {what}."
            for variable, value, what in (
                ("KAFKA_SASL_USERNAME", self.kafka_sasl_username, "this service's principal"),
                ("KAFKA_SASL_PASSWORD", self.kafka_sasl_password, "that principal's password"),
            )
            if not (value or "").strip()
        ]
        if self.kafka_sasl_password and is_development_secret(self.kafka_sasl_password):
            problems.append(
                "KAFKA_SASL_PASSWORD is a development value: set the principal's own "
                f"random password ({MAKE_A_SECRET})."
            )
        if self.kafka_ssl_ca_file is not None and not self.kafka_ssl_ca_file.is_file():
            problems.append(
                f"KAFKA_SSL_CA_FILE ({self.kafka_ssl_ca_file}) does not exist: mount the "
                "PEM file of the brokers' CA and set KAFKA_SSL_CA_FILE to it."
            )
        return problems


class TopicsSettings(KafkaSecuritySettings):
    """What `indgang-topics` reads: where the cluster is, and how to sign in to it."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092")
    kafka_topic_prefix: str = Field(default="")
    kafka_topic_replication_factor: int | None = Field(default=None, ge=1)

    @field_validator("kafka_topic_replication_factor", mode="before")
    @classmethod
    def _empty_is_the_clusters(cls, value: object) -> object:
        # deploy/infra.sh passes an empty value for "the cluster's default".
        return None if value == "" else value


class ServiceSettings(KafkaSecuritySettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    # True where department systems call in with API keys (API_KEYS_FILE is read).
    reads_api_keys: ClassVar[bool] = False

    environment: Literal["development", "production"] = Field(
        default="production",
        description="'production' (the default) refuses to start with development secrets, "
        "users or keys, or without a required secret; 'development' allows them (make up, "
        "docker compose's development stack, the tests).",
    )
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
    otel_exporter_otlp_endpoint: str = Field(
        default="",
        description="OTLP/HTTP collector for traces (http://collector:4318); the standard "
        "OpenTelemetry variable. Unset: no OTLP export (docs/observability.md).",
    )
    traces_dir: str = Field(
        default="",
        description="Folder for traces as JSON lines (`make up`: var/traces), read by "
        "tools/trace.py. Unset and no OTLP endpoint: spans get ids (for log lines and "
        "the traceparent of records and requests) but are not recorded.",
    )
    otel_traces_sampler: Literal[
        "",
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
    ] = Field(
        default="",
        description="The standard OpenTelemetry variable: set, the SDK's sampler of that "
        "name decides which spans are recorded (with OTEL_TRACES_SAMPLER_ARG, the ratio), "
        "exported or not. Unset: everything with an exporter, nothing without one.",
    )
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
    # What an idle consumer costs: every subscriber is a consumer of its own (a group per
    # topic, messaging.consumer_group), so these are paid once per subscriber.
    kafka_heartbeat_interval_ms: int = Field(
        default=2_000,
        ge=100,
        description="How often each consumer tells its group it is alive. A member learns "
        "of a rebalance (a restarted instance) at its next heartbeat, so this is what a "
        "restart's rebalance can wait; at most a third of KAFKA_SESSION_TIMEOUT_MS.",
    )
    kafka_session_timeout_ms: int = Field(
        default=6_000,
        ge=1_000,
        description="How long a consumer may go without a heartbeat before its group "
        "gives its partitions to the others (how soon a killed instance's work moves). "
        "The broker's group.min.session.timeout.ms (6 s by default) is the lowest accepted.",
    )
    kafka_idle_fetch_wait_ms: int = Field(
        default=5_000,
        ge=1,
        le=30_000,
        description="How long a consumer's fetch waits at the broker when there is nothing "
        "to read; the broker answers at once when a record arrives, longer means fewer "
        "requests while idle. But a partition whose records a batch subscriber has not "
        "taken yet is left out of the fetch in flight: on an otherwise quiet topic its "
        "next record can wait up to this long.",
    )
    kafka_batch_poll_wait_ms: int = Field(
        default=1_000,
        ge=10,
        le=30_000,
        description="How long a batch subscriber's poll waits for records before it polls "
        "again; it returns as soon as records are there, so this costs no latency, only one "
        "wake-up per wait while idle.",
    )
    kafka_fetcher_wakeup_ms: int = Field(
        default=1_000,
        ge=10,
        le=30_000,
        description="How often each consumer's background fetcher looks at its state "
        "without being woken (aiokafka's consumer_timeout_ms); events (records, "
        "rebalances, metadata) wake it anyway.",
    )

    kafka_commit_interval_ms: int = Field(
        default=200,
        ge=0,
        le=10_000,
        description="How often a subscriber commits the offsets of what it has handled "
        "(all of it since the last commit, in one request); 0 commits after every poll. "
        "A crash redelivers at most this long's records, which every handler takes; a "
        "rebalance or a stop commits first.",
    )

    @model_validator(mode="after")
    def _heartbeats_fit_in_the_session(self) -> ServiceSettings:
        # Kafka's rule: several heartbeats per session, or one late heartbeat ends it.
        if self.kafka_heartbeat_interval_ms * 3 > self.kafka_session_timeout_ms:
            raise ValueError(
                f"KAFKA_HEARTBEAT_INTERVAL_MS ({self.kafka_heartbeat_interval_ms}) must be at "
                f"most a third of KAFKA_SESSION_TIMEOUT_MS ({self.kafka_session_timeout_ms})"
            )
        return self

    # Staff sign-in and department API keys (indgang_runtime.auth).
    auth_mode: Literal["local", "oidc"] = Field(
        default="local", description="'oidc' in production; 'local' uses USERS_FILE."
    )
    users_file: Path = Field(
        default=Path("deploy/dev/users.toml"), description="Local staff users (development)."
    )
    session_secret: str = Field(
        default=DEVELOPMENT_SESSION_SECRET,
        description="Signs session cookies; in production a random value of at least "
        f"{MIN_SECRET_LENGTH} characters, the same for every instance.",
    )
    session_https_only: bool = Field(
        default=False, description="Secure cookies (HTTPS); required in production."
    )
    session_idle_minutes: int = Field(
        default=8 * 60,
        ge=1,
        description="A staff session ends after this many minutes without a request.",
    )
    session_lifetime_minutes: int = Field(
        default=8 * 60,
        ge=1,
        description="A staff session ends this many minutes after sign-in at the latest.",
    )
    csrf_trusted_origins: str = Field(
        default="",
        description="Comma-separated origins (https://host[:port]) besides the service's "
        "own from which staff forms and cookie-authenticated API calls are accepted "
        "(the CSRF origin check), e.g. a portal that links to the service's forms.",
    )
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect issuer URL.")
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: str | None = Field(default=None, description="OIDC client secret.")
    oidc_roles_claim: str = Field(default="roles", description="Claim that carries roles.")
    oidc_api_audience: str | None = Field(
        default=None,
        description="The audience (`aud`) the identity provider puts in access tokens "
        "for indgang's staff APIs (client credentials of service accounts, "
        "docs/service-accounts.md). Unset: no bearer token is accepted with AUTH_MODE=oidc.",
    )
    service_accounts_file: Path = Field(
        default=Path("deploy/dev/service-accounts.toml"),
        description="Service accounts of the development token endpoint POST /auth/token "
        "(AUTH_MODE=local only; SHA-256 of each client secret).",
    )
    service_account_token_minutes: int = Field(
        default=15, ge=1, le=60, description="How long a development bearer token is valid."
    )
    api_keys_file: Path = Field(
        default=Path("deploy/dev/api-keys.toml"),
        description="Department systems' API keys (SHA-256 hashes).",
    )
    accessibility_statement_url: str = Field(
        default="http://127.0.0.1:8001/tilgaengelighed",
        description="The accessibility statement linked from every page's footer.",
    )
    # What is exposed beyond the pages and APIs (indgang_runtime.http_security).
    operations_token: str | None = Field(
        default=None,
        description="Bearer token for /metrics and the API documentation (/docs, /redoc, "
        "/openapi.json). Set: they need `Authorization: Bearer <token>`. Unset: open in "
        "development, 404 in production.",
    )
    guide_reader_key: str | None = Field(
        default=None,
        description="The key routing presents (Authorization: Bearer) to read the guide's "
        "internal entries and a case's recommendations server to server; the same value on "
        "guide and routing. Unset: a public development key in development, none in "
        "production (then routing shows only entries for the public).",
    )

    def production_problems(self) -> list[str]:
        """What makes these settings unfit for production, one sentence each: what is
        wrong, which variable, what to do. The one hook for a service's own checks:
        override it and extend `super().production_problems()`."""
        problems: list[str] = []
        if is_development_secret(self.session_secret, DEVELOPMENT_SESSION_SECRET):
            problems.append(
                "SESSION_SECRET is a public development value: anyone could sign an admin "
                f"session cookie. Set a random value of at least {MIN_SECRET_LENGTH} "
                f"characters, the same for every instance ({MAKE_A_SECRET})."
            )
        elif len(self.session_secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"SESSION_SECRET has {len(self.session_secret)} characters: set a random "
                f"value of at least {MIN_SECRET_LENGTH} ({MAKE_A_SECRET})."
            )
        if not self.session_https_only:
            problems.append(
                "SESSION_HTTPS_ONLY is false: session cookies would also travel over plain "
                "HTTP. Set SESSION_HTTPS_ONLY=true (serve the pages over HTTPS)."
            )
        if self.auth_mode == "local":
            users = f"USERS_FILE ({self.users_file}"
            if in_development_files(self.users_file):
                users += ", the development users, whose password is public"
            problems.append(
                f"AUTH_MODE=local: staff sign in with the passwords in {users}). Set "
                "AUTH_MODE=oidc with OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET."
            )
        else:
            problems.extend(self._oidc_problems())
        if self.reads_api_keys:
            problems.extend(self._api_keys_problems())
        problems.extend(self._exposure_problems())
        problems.extend(self.kafka_problems(self.kafka_bootstrap_servers))
        return problems

    def _exposure_problems(self) -> list[str]:
        # The optional tokens of indgang_runtime.http_security: unset is safe, public is not.
        problems = []
        for variable, value in (
            ("OPERATIONS_TOKEN", self.operations_token),
            ("GUIDE_READER_KEY", self.guide_reader_key),
        ):
            if value is not None and (
                is_development_secret(value) or len(value) < MIN_SECRET_LENGTH
            ):
                problems.append(
                    f"{variable} is a development value or shorter than {MIN_SECRET_LENGTH} "
                    f"characters: set a random value ({MAKE_A_SECRET}) or unset it."
                )
        return problems

    def _oidc_problems(self) -> list[str]:
        problems = [
            f"{variable} is not set: AUTH_MODE=oidc needs {what}."
            for variable, value, what in (
                ("OIDC_ISSUER", self.oidc_issuer, "the identity provider's issuer URL (https://…)"),
                ("OIDC_CLIENT_ID", self.oidc_client_id, "the client id registered there"),
                ("OIDC_CLIENT_SECRET", self.oidc_client_secret, "that client's secret"),
            )
            if not (value or "").strip()
        ]
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            problems.append(
                f"OIDC_ISSUER is {self.oidc_issuer}: sign-in must use https://, set the "
                "issuer's HTTPS URL."
            )
        return problems

    def _api_keys_problems(self) -> list[str]:
        # Read the file as auth.DepartmentKeys does (imported here: auth imports this module).
        from indgang_runtime.auth import DepartmentKeys

        where = f"API_KEYS_FILE ({self.api_keys_file})"
        if in_development_files(self.api_keys_file):
            return [
                f"{where} is the development keys file: its keys (dev-key-<department>, "
                "dev-key-provider-<provider id>) are public. Mount the department systems' "
                "own keys file and set API_KEYS_FILE to it."
            ]
        try:
            accepted = DepartmentKeys(self.api_keys_file).development_keys()
        except FileNotFoundError:
            return [
                f"{where} does not exist: mount the department systems' keys file (TOML "
                "[[key]] tables with department and sha256) and set API_KEYS_FILE to it."
            ]
        except Exception as exc:
            return [f"{where} cannot be read ({type(exc).__name__}: {exc}): fix the file."]
        if accepted:
            return [
                f"{where} accepts the public development keys {', '.join(accepted)}: remove "
                "their sha256 lines and give those department systems keys of their own."
            ]
        return []

    def check_production(self) -> None:
        """Raise `UnsafeForProduction` listing every problem, if ENVIRONMENT=production
        and there are any. Every composition root calls it before it builds anything."""
        if self.environment != "production":
            return
        problems = self.production_problems()
        if problems:
            raise UnsafeForProduction(self.service_name, problems)

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


S = TypeVar("S", bound=ServiceSettings)


def settings_or_exit(settings_class: type[S]) -> S:
    """The settings from the environment, checked for production: what a console script
    starts with. Invalid or unsafe settings end the process with exit status 2 and the
    list of what to fix on stderr, not a traceback."""
    try:
        settings = settings_class()
        settings.check_production()
    except UnsafeForProduction as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None
    except ValidationError as exc:
        sys.stderr.write(f"{settings_class.__name__}: invalid settings (environment): {exc}\n")
        raise SystemExit(2) from None
    return settings
