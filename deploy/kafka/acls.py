"""indgang's Kafka principals and ACLs, from the services' own AsyncAPI document.

Each service signs in as its own principal, `User:indgang-<service>`, and may
  - write the topics it publishes (and the dead-letter topic),
  - read the topics it subscribes to, in its own consumer groups (one per subscription),
  - see (Describe) every indgang topic, so its start-up finds them created.
Which topics those are is read from contracts/asyncapi.json (generated from the services'
Kafka wiring, kept current by tests/test_asyncapi.py), so a new subscription cannot be
forgotten here. Department systems get a principal each (`User:indgang-department-<d>`)
with no ACL on the shared topics: they read and answer their referrals through routing's
department API, which checks that the referral is theirs; nobody but routing may publish
`referral-updated` (docs/kafka-security.md). Topics are created by an administrator
(a super user) with `indgang-topics`, not by the services.

    python3 deploy/kafka/acls.py                       # print the kafka-acls commands
    python3 deploy/kafka/acls.py --apply --bootstrap-server kafka:9093 \\
        --command-config admin.properties [--topic-prefix P] [--kafka-libs DIR]

Standard library only: it runs where the Kafka tools are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = ROOT / "contracts" / "asyncapi.json"
DEAD_LETTER_TOPIC = "indgang.dead-letter.v1"
# Every indgang topic starts with this (indgang_contracts.topics).
TOPIC_NAMESPACE = "indgang."
DEPARTMENTS = ("job_centre", "business_service", "procurement", "social_services", "csr")
ACL_COMMAND = "org.apache.kafka.tools.AclCommand"


def service_principal(service: str) -> str:
    return f"User:indgang-{service}"


def department_principal(department: str) -> str:
    return f"User:indgang-department-{department}"


@dataclass(frozen=True)
class Service:
    name: str
    publishes: tuple[str, ...]
    subscribes: tuple[str, ...]


def services(asyncapi: dict[str, object] | None = None) -> list[Service]:
    """Each service's published and subscribed topics (contract names, no prefix)."""
    document = asyncapi or json.loads(ASYNCAPI.read_text())
    channels: dict[str, dict[str, str]] = document["channels"]  # type: ignore[assignment]
    operations: dict[str, dict[str, object]] = document["operations"]  # type: ignore[assignment]
    found: dict[str, tuple[set[str], set[str]]] = {}
    for name, operation in operations.items():
        service = name.replace("/", ".").split(".", 1)[0]
        reference: str = operation["channel"]["$ref"]  # type: ignore[index]
        topic = channels[reference.rsplit("/", 1)[-1]]["address"]
        if topic == DEAD_LETTER_TOPIC:
            continue  # every service writes it; `grants` gives it to each
        sends, receives = found.setdefault(service, (set(), set()))
        (sends if operation["action"] == "send" else receives).add(topic)
    return [
        Service(name, tuple(sorted(sends)), tuple(sorted(receives)))
        for name, (sends, receives) in sorted(found.items())
    ]


@dataclass(frozen=True)
class Grant:
    """One AclCommand invocation: what it allows, to whom, on what."""

    principals: tuple[str, ...]
    args: tuple[str, ...]

    def command(self, bootstrap: str, command_config: str | None) -> list[str]:
        connection = ["--bootstrap-server", bootstrap]
        if command_config:
            connection += ["--command-config", command_config]
        allow = [arg for p in self.principals for arg in ("--allow-principal", p)]
        return [*connection, "--add", "--force", *allow, *self.args]


def _topics(names: Iterable[str], prefix: str) -> list[str]:
    return [arg for name in names for arg in ("--topic", f"{prefix}{name}")]


def grants(prefix: str = "", catalogue: Sequence[Service] | None = None) -> list[Grant]:
    """Every ACL indgang needs, as AclCommand invocations (few, since each starts a JVM)."""
    catalogue = list(catalogue) if catalogue is not None else services()
    result = [
        # Start-up checks that the topics exist (Metadata needs Describe).
        Grant(
            tuple(service_principal(s.name) for s in catalogue),
            (
                "--operation",
                "Describe",
                "--topic",
                f"{prefix}{TOPIC_NAMESPACE}",
                "--resource-pattern-type",
                "prefixed",
            ),
        )
    ]
    for service in catalogue:
        principal = (service_principal(service.name),)
        owned = sorted({*service.publishes, DEAD_LETTER_TOPIC})
        result.append(Grant(principal, ("--producer", *_topics(owned, prefix))))
        if service.subscribes:
            # Its consumer groups: one per subscription, `<prefix>indgang-<service>.<topic>`
            # (indgang_runtime.messaging.consumer_group), and the service's former single
            # group, whose offsets are carried over at start (group_offsets).
            base = f"{prefix}indgang-{service.name}"
            groups = [base, *(f"{base}.{topic}" for topic in service.subscribes)]
            result.append(
                Grant(
                    principal,
                    (
                        "--operation",
                        "Read",
                        *_topics(service.subscribes, prefix),
                        *(arg for group in groups for arg in ("--group", group)),
                    ),
                )
            )
    return result


def acl_command(libs: Path, args: Sequence[str]) -> list[str]:
    return ["java", "-Xmx256m", "-cp", f"{libs}/*", ACL_COMMAND, *args]


def default_libs() -> Path:
    cache = Path(os.environ.get("INDGANG_CACHE", Path.home() / ".cache" / "indgang"))
    return next(iter(sorted(cache.glob("kafka-*/libs"))), cache / "kafka" / "libs")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-server", default="127.0.0.1:9093")
    parser.add_argument("--command-config", help="the admin's client properties (SASL_SSL)")
    parser.add_argument("--topic-prefix", default="", help="KAFKA_TOPIC_PREFIX of the services")
    parser.add_argument("--kafka-libs", type=Path, default=None)
    parser.add_argument("--apply", action="store_true", help="run the commands")
    options = parser.parse_args(argv)
    for grant in grants(options.topic_prefix):
        args = grant.command(options.bootstrap_server, options.command_config)
        if not options.apply:
            print("kafka-acls.sh " + " ".join(args))
            continue
        done = subprocess.run(
            acl_command(options.kafka_libs or default_libs(), args),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            return done.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
