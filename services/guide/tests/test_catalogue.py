"""The catalogue on the real store: an idle check reads one document and rebuilds
nothing; a save by one instance shows there at once and in another instance at its
next check; recommendations of one poll are stored in one write, the later list of
a case winning."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from indgang_guide.adapters.content_files import load_content
from indgang_guide.adapters.store import CaseRecommendations, GuideStore
from indgang_guide.domain.recommendations import Recommendation
from indgang_guide.domain.search import Filters
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import Editing

from harness import eventually


@pytest.fixture
def db(fresh_db: AsyncDatabase[dict[str, Any]]) -> AsyncDatabase[dict[str, Any]]:
    return fresh_db


def instance(db: AsyncDatabase[dict[str, Any]]) -> tuple[GuideStore, Catalogue, Editing]:
    store = GuideStore(db)
    catalogue = Catalogue(store)
    return store, catalogue, Editing(store, catalogue, "756", "/indgang/guide")


async def test_a_save_shows_here_at_once_and_elsewhere_at_the_next_check(
    db: AsyncDatabase[dict[str, Any]], kit: Any
) -> None:
    store, here, editing = instance(db)
    await store.ensure_indexes()
    await editing.load_files(load_content(kit.content))
    _, there, _ = instance(db)
    await there.refresh()
    assert here.generation == there.generation == await store.generation() > 0
    assert await there.refresh_if_changed() is False  # idle: nothing saved, nothing rebuilt

    current = here.get("fleksjob")
    assert current is not None
    values = {**current.entry.model_dump(mode="json"), "title": "Fleksjob i Ikast-Brande"}
    saved = await editing.save("fleksjob", values, current.version, "redaktoer")

    # Here: shown and searchable at once, and counted as this catalogue's own save.
    assert here.get("fleksjob").version == saved.version  # type: ignore[union-attr]
    assert here.search("ikast", Filters())[0].entry.id == "fleksjob"
    assert here.generation == await store.generation()
    assert await here.refresh_if_changed() is False
    # There: the next check sees the count change and rebuilds.
    assert there.get("fleksjob").version == current.version  # type: ignore[union-attr]
    assert await there.refresh_if_changed() is True
    assert there.get("fleksjob").entry.title == "Fleksjob i Ikast-Brande"  # type: ignore[union-attr]
    assert there.generation == here.generation
    assert await there.refresh_if_changed() is False


async def test_a_save_made_while_another_instance_saves_is_not_missed(
    db: AsyncDatabase[dict[str, Any]], kit: Any
) -> None:
    store, one, editing_one = instance(db)
    await store.ensure_indexes()
    await editing_one.load_files(load_content(kit.content))
    _, two, editing_two = instance(db)
    await two.refresh()

    a = one.get("fleksjob")
    b = two.get("mentorstoette")
    assert a is not None
    assert b is not None
    # Instance two saves first; one has not looked yet when it saves its own.
    await editing_two.save(
        "mentorstoette", {**b.entry.model_dump(mode="json"), "title": "Mentor"}, b.version, "x"
    )
    await editing_one.save(
        "fleksjob", {**a.entry.model_dump(mode="json"), "title": "Flex"}, a.version, "y"
    )
    # One's count is not simply the next after its own: it must still rebuild.
    assert one.generation < await store.generation()
    assert await one.refresh_if_changed() is True
    assert await two.refresh_if_changed() is True
    for catalogue in (one, two):
        assert catalogue.get("mentorstoette").entry.title == "Mentor"  # type: ignore[union-attr]
        assert catalogue.get("fleksjob").entry.title == "Flex"  # type: ignore[union-attr]


async def test_recommendations_of_one_poll_are_stored_together(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = GuideStore(db)
    item = Recommendation(
        entry_id="fleksjob", title="Fleksjob", section="employing_vulnerable_unemployed",
        audience="external", score=2.0, why="Dækker behovet.",
    )  # fmt: skip
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await store.save_recommendations(
        [
            CaseRecommendations(first, ["hiring_vulnerable_unemployed"], "start_up", [item]),
            CaseRecommendations(second, ["legislation"], None, []),
            # The same case again later in the poll (a reassignment): the later wins.
            CaseRecommendations(first, ["rsv_registration"], "established", []),
        ]
    )
    await store.save_recommendations([])  # an empty poll writes nothing
    stored = await store.recommendations_for(first)
    assert stored is not None
    assert (stored["needs"], stored["stage"], stored["items"]) == (
        ["rsv_registration"], "established", []
    )  # fmt: skip
    assert (await store.recommendations_for(second))["needs"] == ["legislation"]  # type: ignore[index]
    assert await db["recommendations"].count_documents({}) == 2
    # Redelivered: replaced, not added.
    await store.save_recommendations([CaseRecommendations(second, ["legislation"], None, [])])
    assert await db["recommendations"].count_documents({}) == 2


async def test_two_running_instances_follow_each_others_saves(kit: Any) -> None:
    settings = kit.settings("guidepair", catalogue_refresh_seconds=0.2)
    async for one in kit.run(settings):
        async for two in kit.run(settings):
            async with one.client() as a, two.client() as b:
                await kit.login(a, "redaktoer")
                entry = (await a.get("/api/v1/guide/entries/fleksjob")).json()
                edited = {**entry, "summary": "Gemt i den ene instans."}
                assert (await a.put("/api/v1/guide/entries/fleksjob", json=edited)).is_success

                async def seen_by_two() -> bool:
                    got = (await b.get("/api/v1/guide/entries/fleksjob")).json()
                    return bool(got["summary"] == "Gemt i den ene instans.")

                assert await eventually(seen_by_two, timeout=30)
                search = await b.get("/api/v1/guide/search", params={"q": "instans"})
                assert search.json()["hits"][0]["entry_id"] == "fleksjob"
