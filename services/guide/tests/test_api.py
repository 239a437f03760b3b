"""The guide's API on the real store and broker: reading, searching, editing with
versions and per-field errors, the content-file rule, and guide-entry-published."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from indgang_contracts.events import GuideEntryPublished
from indgang_contracts.topics import topic_for

from harness import KAFKA_BOOTSTRAP, EventLog

NEW_ENTRY: dict[str, Any] = {
    "id": "testopslag-lokale",
    "section": "offers",
    "kind": "offer",
    "title": "Lokaler til socialøkonomiske virksomheder",
    "summary": "Kommunen kan oplyse om ledige lokaler.",
    "body": "Første afsnit.\n\nAndet afsnit.",
    "needs": ["business_development"],
    "stages": ["start_up"],
    "audience": "external",
    "owner": "Konsulenten",
    "review_by": "2027-01-01",
    "status": "draft",
    "provider": "Kommunen",
    "sources": [{"title": "Kommunen", "url": "https://www.ikast-brande.dk"}],
}


async def test_published_entries_are_readable_without_a_session(guide_app: Any) -> None:
    async with guide_app.client() as client:
        entry = (await client.get("/api/v1/guide/entries/rsv-registrering")).json()
        assert entry["audience"] == "external"
        assert entry["sources"][0]["url"].startswith("https://")
        assert {"id", "title", "summary", "audience", "version"} <= set(entry)
        internal = await client.get("/api/v1/guide/entries/erhvervsfremmeloven-paragraf-14")
        assert internal.status_code == 404  # staff only (test_internal_entries.py)
        draft = await client.get("/api/v1/guide/entries/lokalt-socialokonomisk-netvaerk")
        assert draft.status_code == 404  # drafts only for editors
        listing = (await client.get("/api/v1/guide/entries", params={"need": "legislation"})).json()
        assert listing["count"] > 0
        assert len(listing["sections"]) == 4
        assert (await client.get("/api/v1/guide/entries", params={"need": "x"})).status_code == 422


async def test_search_api_finds_loentilskud_from_a_misspelling(guide_app: Any) -> None:
    async with guide_app.client() as client:
        found = await client.get(
            "/api/v1/guide/search",
            params={"q": "lønstilskuddet", "section": "employing_vulnerable_unemployed"},
        )
        body = found.json()
        assert body["hits"][0]["entry_id"] == "loentilskud"
        assert body["hits"][0]["score"] > 0
        assert body["hits"][0]["snippet"]
        assert all(h["section"] == "employing_vulnerable_unemployed" for h in body["hits"])
        bad = await client.get("/api/v1/guide/search", params={"q": "x", "kind": "essay"})
        assert bad.status_code == 422


async def test_recommendations_on_the_fly(guide_app: Any) -> None:
    async with guide_app.client() as client:
        response = await client.get(
            "/api/v1/guide/recommendations",
            params={"needs": ["hiring_vulnerable_unemployed", "funding_and_support"],
                    "stage": "start_up"},
        )  # fmt: skip
        items = response.json()["items"]
        assert len(items) == 5
        assert set(items[0]) == {"entry_id", "title", "section", "audience", "score", "why"}
        assert "Dækker behovene" in items[0]["why"]
        assert (await client.get("/api/v1/guide/recommendations")).status_code == 422


async def test_writing_needs_the_editor_role(guide_app: Any, kit: Any) -> None:
    async with guide_app.client() as client:
        assert (await client.post("/api/v1/guide/entries", json=NEW_ENTRY)).status_code == 401
        await kit.login(client, "ane-kjaer")
        assert (await client.post("/api/v1/guide/entries", json=NEW_ENTRY)).status_code == 403


async def test_invalid_entries_get_an_error_per_field(guide_app: Any, kit: Any) -> None:
    async with guide_app.client() as client:
        await kit.login(client, "redaktoer")
        broken = {
            **NEW_ENTRY,
            "id": "broken",
            "kind": "legislation",
            "section": "",
            "sources": [{"title": "Ugyldig", "url": "www.no-scheme"}],
        }
        response = await client.post("/api/v1/guide/entries", json=broken)
        assert response.status_code == 422
        fields = {item["loc"][-1]: item["msg"] for item in response.json()["detail"]}
        assert {"section", "sources", "law", "law_reference", "official_url"} <= set(fields)
        assert fields["sources"].startswith("Kilde 1:")
        assert (await client.get("/api/v1/guide/entries/broken")).status_code == 404


async def test_edit_publish_history_and_the_published_event(guide_app: Any, kit: Any) -> None:
    settings = guide_app.app.state.runtime.settings
    topic = settings.topic(topic_for(GuideEntryPublished))
    async with EventLog(KAFKA_BOOTSTRAP, topic) as log, guide_app.client() as client:
        await kit.login(client, "redaktoer")
        created = await client.post("/api/v1/guide/entries", json=NEW_ENTRY)
        assert created.status_code == 201, created.text
        assert created.json()["version"] == 1
        again = await client.post("/api/v1/guide/entries", json=NEW_ENTRY)
        assert again.status_code == 409

        published = await client.post(
            f"/api/v1/guide/entries/{NEW_ENTRY['id']}/publish", json={"version": 1}
        )
        assert published.json() == {"entry_id": NEW_ENTRY["id"], "status": "published",
                                     "version": 2}  # fmt: skip
        event = await log.wait_for(lambda e: e.data.entry_id == NEW_ENTRY["id"], timeout=90)
        assert event.data.version == 2
        assert event.data.published_by == "redaktoer"
        assert event.data.audience == "external"

        current = (await client.get(f"/api/v1/guide/entries/{NEW_ENTRY['id']}")).json()
        edited = {**current, "title": "Lokaler og værksteder til socialøkonomiske virksomheder"}
        saved = await client.put(f"/api/v1/guide/entries/{NEW_ENTRY['id']}", json=edited)
        assert saved.json()["version"] == 3
        stale = await client.put(f"/api/v1/guide/entries/{NEW_ENTRY['id']}", json=edited)
        assert stale.status_code == 409  # version 2 is no longer current
        await log.wait_for(
            lambda e: e.data.entry_id == NEW_ENTRY["id"] and e.data.version == 3, timeout=90
        )

        found = await client.get("/api/v1/guide/search", params={"q": "værkstederne"})
        assert found.json()["hits"][0]["entry_id"] == NEW_ENTRY["id"]

        history = (await client.get(f"/api/v1/guide/entries/{NEW_ENTRY['id']}/versions")).json()
        assert [v["version"] for v in history["versions"]] == [3, 2, 1]
        assert history["versions"][0]["changed"] == ["title"]
        assert history["versions"][1]["action"] == "published"
        assert history["versions"][0]["saved_by"] == "redaktoer"
        old = (await client.get(f"/api/v1/guide/entries/{NEW_ENTRY['id']}/versions/1")).json()
        assert old["content"]["title"] == NEW_ENTRY["title"]
        assert old["content"]["status"] == "draft"

        unpublished = await client.post(
            f"/api/v1/guide/entries/{NEW_ENTRY['id']}/unpublish", json={"version": 3}
        )
        assert unpublished.json()["version"] == 4
    async with guide_app.client() as anonymous:
        gone = await anonymous.get(f"/api/v1/guide/entries/{NEW_ENTRY['id']}")
        assert gone.status_code == 404


async def test_content_files_do_not_overwrite_the_editors_work(kit: Any, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(kit.content, content)
    settings = kit.settings("guidefiles", content_dir=content)
    async for running in kit.run(settings):
        async with running.client() as client:
            await kit.login(client, "redaktoer")
            entry = (await client.get("/api/v1/guide/entries/fleksjob")).json()
            assert entry["version"] == 1
            assert entry["updated_by"] == "content-file"
            edited = {**entry, "summary": "Redaktørens nye resumé om fleksjob."}
            assert (await client.put("/api/v1/guide/entries/fleksjob", json=edited)).is_success

    # The files change in git: a new summary for fleksjob (edited) and for mentorstøtte (not).
    path = content / "2-beskaeftigelse.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('title = "Fleksjob"', 'title = "Fleksjob (fra filen)"')
    text = text.replace('title = "Mentorstøtte"', 'title = "Mentorstøtte (fra filen)"')
    path.write_text(text, encoding="utf-8")
    for _ in range(2):  # a second start with the same files changes nothing
        async for running in kit.run(settings):
            async with running.client() as client:
                fleksjob = (await client.get("/api/v1/guide/entries/fleksjob")).json()
                assert fleksjob["title"] == "Fleksjob"
                assert fleksjob["summary"] == "Redaktørens nye resumé om fleksjob."
                assert fleksjob["version"] == 2
                mentor = (await client.get("/api/v1/guide/entries/mentorstoette")).json()
                assert mentor["title"] == "Mentorstøtte (fra filen)"
                assert mentor["version"] == 2
                assert mentor["updated_by"] == "content-file"
