"""Use case: recommend guide entries for a routed case."""

from __future__ import annotations

from indgang_contracts.events import CaseRouted
from indgang_guide.adapters.store import GuideStore
from indgang_guide.domain.recommendations import recommend
from indgang_guide.handlers.catalogue import Catalogue


async def recommend_for_case(
    event: CaseRouted, store: GuideStore, catalogue: Catalogue, limit: int
) -> None:
    """Idempotent: a redelivered or repeated event replaces the case's list (by case id)."""
    items = recommend(catalogue.published(), list(event.needs), event.organisation_stage, limit)
    await store.save_recommendations(
        event.case_id,
        [n.value for n in event.needs],
        event.organisation_stage.value if event.organisation_stage else None,
        items,
    )
