"""Use case: recommend guide entries for a newly routed case."""

from __future__ import annotations

from indgang_contracts.events import CaseRouted
from indgang_guide.adapters.store import GuideStore
from indgang_guide.domain.entries import recommend


async def recommend_for_case(event: CaseRouted, store: GuideStore, limit: int) -> None:
    """Idempotent: the same case always gets the same stored list (replace by case id)."""
    entries = await store.published({})
    items = recommend(entries, list(event.needs), event.organisation_stage, limit)
    await store.save_recommendations(event.case_id, items)
