"""Guide's Kafka wiring (one KafkaRouter for the service): it publishes
guide-entry-published (through its outbox) and subscribes to case-routed."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaRouter

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import CaseRouted, GuideEntryPublished
from indgang_guide.adapters.store import GuideStore
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.recommend import recommend_for_cases
from indgang_guide.settings import GuideSettings
from indgang_runtime.messaging import EventConsumer
from indgang_runtime.wiring import declare_publishers, subscribe


def build_router(
    settings: GuideSettings,
    store: GuideStore,
    catalogue: Catalogue,
    consumer: EventConsumer,
) -> KafkaRouter:
    router = KafkaRouter()
    declare_publishers(router, settings, [GuideEntryPublished])

    async def recommend(envelopes: Sequence[Envelope[CaseRouted]]) -> None:
        await recommend_for_cases(envelopes, store, catalogue, settings.recommendations_per_case)

    subscribe(
        router,
        settings,
        consumer,
        CaseRouted,
        recommend,
        description="Computes the recommended guide entries of the cases in one poll.",
        batch=True,
    )
    return router
