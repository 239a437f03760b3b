"""Kafka with SASL/SCRAM over TLS and ACLs (issue 12, finding 2): a broker of this module's
own, configured as production is (deploy/kafka/server-sasl.properties), with a CA and
certificate made here, a SCRAM user per principal and the ACLs of deploy/kafka/acls.py.

Shown: the services' own clients (`make_broker`, `ensure_topics`) work over SASL_SSL with
their principals; a record forged on a topic the principal does not own is refused by the
broker; a department system cannot read the referrals (with contact details) of the shared
topics, nor answer a referral on Kafka; a wrong password does not get in.
One broker for the whole module."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import ipaddress
import secrets
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from faststream import Context
from faststream.kafka.message import KafkaMessage

from indgang_contracts.topics import TOPICS, topic_for
from indgang_runtime.group_offsets import carry_over
from indgang_runtime.kafka_security import client_options
from indgang_runtime.messaging import consumer_group, make_broker, subscriber_options
from indgang_runtime.settings import ServiceSettings, TopicsSettings
from indgang_runtime.topics import ensure_topics

from harness import KAFKA_LIBS, MONGODB_URI, ROOT, eventually, free_port, reachable

SERVICES = ("intake", "routing", "notifications", "guide", "reporting")
DEPARTMENT = "job_centre"
CASE_ROUTED = "indgang.case-routed.v1"
REFERRAL_MADE = "indgang.referral-made.v1"
REFERRAL_UPDATED = "indgang.referral-updated.v1"
REFUSED = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)


def acls_topics(service: str) -> tuple[str, ...]:
    """The topics `service` reads, as deploy/kafka/acls.py grants them."""
    found: tuple[str, ...] = next(s.subscribes for s in load_acls().services() if s.name == service)
    return found


def load_acls() -> ModuleType:
    spec = importlib.util.spec_from_file_location("indgang_acls", ROOT / "deploy/kafka/acls.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def make_certificates(folder: Path) -> tuple[Path, Path]:
    """A CA of the test's own, and the broker's key and certificate (for 127.0.0.1 and
    localhost) signed by it: (CA file, broker's PEM keystore)."""
    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("indgang test CA"))
        .issuer_name(name("indgang test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    keystore = folder / "broker.pem"
    keystore.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + certificate.public_bytes(pem)
        + ca.public_bytes(pem)
    )
    keystore.chmod(0o600)
    return ca_file, keystore


@dataclass
class SecureKafka:
    bootstrap: str
    ca_file: Path
    passwords: dict[str, str]  # principal name → SCRAM password

    def security(self, user: str, password: str | None = None) -> dict[str, Any]:
        return {
            "kafka_bootstrap_servers": self.bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_username": user,
            "kafka_sasl_password": password or self.passwords[user],
            "kafka_ssl_ca_file": self.ca_file,
        }

    def service(self, name: str) -> ServiceSettings:
        return ServiceSettings(
            service_name=name,
            mongodb_database="unused",
            http_port=1,
            environment="production",
            **self.security(f"indgang-{name}"),
        )

    def client(self, user: str, password: str | None = None) -> dict[str, Any]:
        """aiokafka options for `user`, as the services build them."""
        settings = TopicsSettings(**self.security(user, password))
        return {"bootstrap_servers": self.bootstrap, **client_options(settings)}


def java(workdir: Path, main: str, *args: str, tool: bool = True) -> list[str]:
    # Short-lived tools start faster with the first compiler tier only.
    fast_start = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"] if tool else []
    return [
        "java",
        "-Xmx256m" if tool else "-Xmx512m",
        *fast_start,
        f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'kafka' / 'log4j2.xml'}",
        f"-Dkafka.logs.dir={workdir}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        main,
        *args,
    ]


async def run_java(workdir: Path, main: str, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *java(workdir, main, *args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, f"{main} {' '.join(args)}:\n{output.decode()[-3000:]}"


@pytest.fixture(scope="module")
def kafka_workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("secure-kafka")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def private_kafka(kafka_workdir: Path) -> AsyncIterator[SecureKafka]:
    """The broker: SASL_SSL only, StandardAuthorizer, the topics and ACLs in place."""
    if not KAFKA_LIBS.exists():
        pytest.fail(f"Kafka jars missing in {KAFKA_LIBS}: run `bash deploy/infra.sh install`")
    work = kafka_workdir
    ca_file, keystore = make_certificates(work)
    users = ["admin", *(f"indgang-{s}" for s in SERVICES), f"indgang-department-{DEPARTMENT}"]
    passwords = {user: secrets.token_urlsafe(24) for user in users}
    port, controller_port = free_port(), free_port()
    config = work / "server.properties"
    config.write_text(
        (ROOT / "deploy" / "kafka" / "server-sasl.properties")
        .read_text()
        .replace("@DATA_DIR@", str(work / "data"))
        .replace("@HOST@", "127.0.0.1")
        .replace("@CONTROLLER_PORT@", str(controller_port))
        .replace("@PORT@", str(port))
        .replace("@KEYSTORE@", str(keystore))
        .replace("@CA@", str(ca_file))
        .replace("@ADMIN_PASSWORD@", passwords["admin"])
    )
    scram = [
        arg
        for user, password in passwords.items()
        for arg in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={password}]")
    ]
    await run_java(
        work,
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "-t",
        uuid.uuid4().hex[:22],
        "-c",
        str(config),
        *scram,
    )
    log = (work / "kafka-stdout.log").open("ab")
    process = subprocess.Popen(
        java(work, "kafka.Kafka", str(config), tool=False),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    kafka = SecureKafka(f"127.0.0.1:{port}", ca_file, passwords)
    try:

        async def up() -> bool:
            return process.poll() is None and reachable(kafka.bootstrap, 0.5)

        await eventually(up, timeout=90)
        admin_properties = work / "admin.properties"
        admin_properties.write_text(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
            f'required username="admin" password="{passwords["admin"]}";\n'
            f"ssl.truststore.type=PEM\nssl.truststore.location={ca_file}\n"
        )
        # The administrator creates the topics (the services may not) ...
        admin = TopicsSettings(**kafka.security("admin"))
        await ensure_topics(kafka.bootstrap, **client_options(admin))
        # ... and grants the ACLs, a few JVMs at a time (two cores).
        acls = load_acls()
        commands = [
            grant.command(kafka.bootstrap, str(admin_properties)) for grant in acls.grants()
        ]
        limit = asyncio.Semaphore(4)

        async def apply(args: list[str]) -> None:
            async with limit:
                await run_java(work, acls.ACL_COMMAND, *args)

        await asyncio.gather(*(apply(args) for args in commands))
        yield kafka
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def refused(action: Any, timeout: float = 30.0) -> BaseException:
    """The error the broker refused `action` with (it must not succeed or hang)."""
    with pytest.raises((*REFUSED, KafkaError)) as error:
        await asyncio.wait_for(action(), timeout)
    refusal: BaseException = error.value
    return refusal


async def poll(consumer: AIOKafkaConsumer) -> None:
    """Join and fetch once; the consumer is stopped whatever happens."""
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=5_000)
    finally:
        await consumer.stop()


async def test_services_publish_and_consume_over_sasl_ssl(private_kafka: SecureKafka) -> None:
    routing, guide = private_kafka.service("routing"), private_kafka.service("guide")
    # Nothing unfit for production in the Kafka settings the services run with here.
    assert not [p for p in routing.production_problems() if p.startswith("KAFKA_")]
    # A service's start-up finds the topics the administrator made (Describe only).
    assert await ensure_topics(private_kafka.bootstrap, **client_options(routing)) == []
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    consumer = make_broker(guide)
    topic = guide.topic(CASE_ROUTED)

    @consumer.subscriber(topic, **subscriber_options(guide, topic))
    async def on_case_routed(body: Any, message: KafkaMessage = Context()) -> None:
        if not received.done():
            received.set_result(message.body)

    producer = make_broker(routing)
    marker = uuid.uuid4().hex.encode()
    await consumer.start()
    try:
        await producer.start()
        try:
            await producer.publish(marker, routing.topic(CASE_ROUTED), key=b"case-1")
        finally:
            await producer.stop()
        assert await asyncio.wait_for(received, 60) == marker
    finally:
        await consumer.stop()
    # The offsets carry-over at start reads routing's former group (nothing to carry
    # over here; once a group has joined, the broker has its group coordinator).
    inquiries = routing.topic("indgang.inquiry-received.v1")
    groups = {inquiries: consumer_group(routing, inquiries)}
    assert (
        await carry_over(
            private_kafka.bootstrap, routing.group_id, groups, **client_options(routing)
        )
        == {}
    )


async def test_a_record_forged_on_a_topic_the_principal_does_not_own_is_refused(
    private_kafka: SecureKafka,
) -> None:
    # Intake signs in fine, but may publish only inquiry-received (and dead letters).
    intake = make_broker(private_kafka.service("intake"))
    await intake.start()
    try:
        error = await refused(
            lambda: intake.publish(b'{"forged": true}', CASE_ROUTED, key=b"case-1")
        )
        assert isinstance(error, TopicAuthorizationFailedError), repr(error)
        await intake.publish(b"{}", "indgang.inquiry-received.v1", key=b"org-1")
    finally:
        await intake.stop()


async def test_a_department_cannot_read_referrals_nor_answer_on_kafka(
    private_kafka: SecureKafka,
) -> None:
    options = private_kafka.client(f"indgang-department-{DEPARTMENT}")
    # Reading the shared referral-made topic (every department's referrals with the
    # organisation's contact details) is refused ...
    consumer = AIOKafkaConsumer(
        REFERRAL_MADE, group_id=f"indgang-department-{DEPARTMENT}", **options
    )
    error = await refused(lambda: poll(consumer))
    assert isinstance(error, REFUSED), repr(error)
    # ... and so is forging an answer: only routing publishes referral-updated, after its
    # department API has checked that the referral is the answering department's.
    producer = AIOKafkaProducer(acks="all", **options)
    await producer.start()
    try:
        error = await refused(lambda: producer.send_and_wait(REFERRAL_UPDATED, b"{}", key=b"c"))
        assert isinstance(error, TopicAuthorizationFailedError), repr(error)
    finally:
        await producer.stop()


async def test_a_service_reads_only_what_it_consumes(private_kafka: SecureKafka) -> None:
    # Guide consumes case-routed; the referrals are none of its business.
    consumer = AIOKafkaConsumer(
        # In guide's own group: the topic is the only thing it may not have.
        REFERRAL_MADE,
        group_id=f"indgang-guide.{CASE_ROUTED}",
        **private_kafka.client("indgang-guide"),
    )
    error = await refused(lambda: poll(consumer))
    assert isinstance(error, TopicAuthorizationFailedError), repr(error)


async def test_reporting_reads_in_its_own_groups_and_publishes_nothing(
    private_kafka: SecureKafka,
) -> None:
    # Reporting consumes referral-made (one of the topics its read model is made of) in its
    # own group ...
    options = private_kafka.client("indgang-reporting")
    consumer = AIOKafkaConsumer(
        REFERRAL_MADE, group_id=f"indgang-reporting.{REFERRAL_MADE}", **options
    )
    await asyncio.wait_for(poll(consumer), 60)
    # ... not in another service's group ...
    borrowed = AIOKafkaConsumer(
        REFERRAL_MADE, group_id=f"indgang-notifications.{REFERRAL_MADE}", **options
    )
    error = await refused(lambda: poll(borrowed))
    assert isinstance(error, GroupAuthorizationFailedError), repr(error)
    # ... and writes no event topic (only dead letters).
    producer = AIOKafkaProducer(acks="all", **options)
    await producer.start()
    try:
        error = await refused(lambda: producer.send_and_wait(CASE_ROUTED, b"{}", key=b"c"))
        assert isinstance(error, TopicAuthorizationFailedError), repr(error)
    finally:
        await producer.stop()


async def test_reporting_rebuild_runs_as_reporting(private_kafka: SecureKafka) -> None:
    # `make rebuild-reports` in production signs in as reporting: describing its topics
    # and committing its groups back to the start need no more than its ACLs.
    from indgang_reporting.entrypoints.rebuild import rebuild
    from indgang_reporting.settings import ReportingSettings

    settings = ReportingSettings(
        environment="development",
        mongodb_uri=MONGODB_URI,
        mongodb_database=f"test_acl_rebuild_{uuid.uuid4().hex[:8]}",  # nothing in it
        **private_kafka.security("indgang-reporting"),
    )
    groups = await asyncio.wait_for(rebuild(settings), 120)
    assert sorted(groups) == sorted(f"indgang-reporting.{t}" for t in acls_topics("reporting"))


async def test_a_wrong_password_or_plaintext_does_not_get_in(private_kafka: SecureKafka) -> None:
    wrong = AIOKafkaProducer(**private_kafka.client("indgang-routing", "not-the-password"))
    with pytest.raises(KafkaError):
        await asyncio.wait_for(wrong.start(), 30)
    await wrong.stop()
    plain = AIOKafkaProducer(bootstrap_servers=private_kafka.bootstrap, request_timeout_ms=5_000)
    with pytest.raises((KafkaConnectionError, KafkaError, asyncio.TimeoutError)):
        await asyncio.wait_for(plain.start(), 15)
    await plain.stop()


def test_every_topic_has_an_owner_and_the_acls_follow_the_contracts() -> None:
    acls = load_acls()
    catalogue = {s.name: s for s in acls.services()}
    assert set(catalogue) == set(SERVICES)
    published = [t for s in catalogue.values() for t in s.publishes]
    # One writer per topic (besides the dead-letter topic, which every service writes).
    assert len(published) == len(set(published))
    assert {t.name for t in TOPICS} - set(published) == {acls.DEAD_LETTER_TOPIC}
    assert catalogue["routing"].publishes.count(REFERRAL_UPDATED) == 1
    assert REFERRAL_MADE not in catalogue["guide"].subscribes
    # Reporting only reads: the topics its read model is made of.
    from indgang_reporting.entrypoints.kafka import CONSUMED

    assert catalogue["reporting"].publishes == ()
    assert set(catalogue["reporting"].subscribes) == {topic_for(model) for model in CONSUMED}
