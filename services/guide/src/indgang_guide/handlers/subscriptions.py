"""Guide's Kafka subscriber (one KafkaRouter for the service)."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from indgang_contracts.events import CaseRouted
from indgang_contracts.topics import topic_for
from indgang_guide.adapters.store import GuideStore
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.recommend import recommend_for_cases
from indgang_guide.settings import GuideSettings
from indgang_runtime.messaging import EventConsumer, subscriber_options


def build_router(
    settings: GuideSettings,
    store: GuideStore,
    catalogue: Catalogue,
    consumer: EventConsumer,
) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        settings.topic(topic_for(CaseRouted)),
        title="guide/on_case_routed",
        description="Computes the recommended guide entries of the cases in one poll.",
        **subscriber_options(settings, batch=True),
    )
    async def on_case_routed(message: KafkaMessage) -> None:
        await consumer.handle_batch(
            message,
            CaseRouted,
            lambda events: recommend_for_cases(
                events, store, catalogue, settings.recommendations_per_case
            ),
        )

    return router
