"""Use case: recommend guide entries for routed cases."""

from __future__ import annotations

from collections.abc import Sequence

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import CaseRouted
from indgang_guide.adapters.store import CaseRecommendations, GuideStore
from indgang_guide.domain.recommendations import recommend
from indgang_guide.handlers.catalogue import Catalogue
from indgang_runtime.local_time import danish_today


def recommendations_for(event: CaseRouted, catalogue: Catalogue, limit: int) -> CaseRecommendations:
    return CaseRecommendations(
        case_id=event.case_id,
        needs=[n.value for n in event.needs],
        stage=event.organisation_stage.value if event.organisation_stage else None,
        items=recommend(
            catalogue.published(),
            list(event.needs),
            event.organisation_stage,
            limit,
            today=danish_today(),  # the municipality's day: review dates are Danish dates
        ),
    )


async def recommend_for_cases(
    events: Sequence[Envelope[CaseRouted]], store: GuideStore, catalogue: Catalogue, limit: int
) -> None:
    """What one poll brought, stored in one bulk write. Idempotent: each case's list is
    replaced by case id, so a redelivered or repeated event (a reassignment) changes
    nothing but the list."""
    await store.save_recommendations(
        [recommendations_for(e.data, catalogue, limit) for e in events]
    )
