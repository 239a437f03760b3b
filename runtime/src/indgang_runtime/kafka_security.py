"""The connection security of every Kafka client a service makes (issue 12, finding 2).

One source for all of them: the FastStream broker gets `broker_security`, the aiokafka
admin and consumers (topic creation, offsets carry-over) get `client_options` — the
same options FastStream derives from it, so no client can connect differently.
PLAINTEXT gives no options at all (make up, the tests).
"""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from indgang_runtime.settings import KafkaSecuritySettings


def ssl_context(settings: KafkaSecuritySettings) -> ssl.SSLContext:
    """TLS that checks the broker's certificate and host name: against KAFKA_SSL_CA_FILE,
    or the system's trusted CAs when it is unset."""
    ca = settings.kafka_ssl_ca_file
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def broker_security(settings: KafkaSecuritySettings) -> BaseSecurity | None:
    """FastStream's security for `KafkaBroker(security=...)`; None for PLAINTEXT."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
        # Refused in production by check_production; elsewhere say it plainly here
        # rather than as an authentication failure the broker logs.
        raise ValueError(
            "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        )
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password,
        ssl_context=ssl_context(settings),
    )


def client_options(settings: KafkaSecuritySettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's clients (AIOKafkaAdminClient, AIOKafkaConsumer,
    AIOKafkaProducer): security_protocol, sasl_* and ssl_context; none for PLAINTEXT."""
    security = broker_security(settings)
    return parse_security(security) if security is not None else {}
