"""The editor's HTML form keeps `to_check` (issue 13, point 12): saving an entry through
the form used to drop what a reviewer must still verify, because the form had no field
for it. Now the form shows it, a save keeps it, and emptying the field clears it."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MultiDict

from indgang_guide.domain.entries import parse_entry
from indgang_guide.web.forms import entry_values, form_state, state_of

TO_CHECK = "Tærsklerne er ikke efterprøvet: tjek BEK nr. 1079 af 2022 på retsinformation.dk."

ENTRY: dict[str, Any] = {
    "id": "testopslag-tjek",
    "section": "social_value_partnership",
    "kind": "article",
    "title": "Et opslag med noget, der skal tjekkes",
    "summary": "Resumé.",
    "body": "Tekst.",
    "audience": "external",
    "owner": "Konsulenten",
    "review_by": "2027-01-01",
    "status": "draft",
    "to_check": TO_CHECK,
}


def _posted(state: dict[str, Any]) -> MultiDict:
    """The form a browser posts for this state (checkboxes as repeated names)."""
    pairs: list[tuple[str, str]] = []
    for name, value in state.items():
        if isinstance(value, list):
            pairs += [(name, str(v)) for v in value]
        elif isinstance(value, bool):
            if value:
                pairs.append((name, "on"))
        else:
            pairs.append((name, str(value)))
    return MultiDict(pairs)


def test_the_form_round_trip_keeps_to_check() -> None:
    entry = parse_entry(ENTRY)
    form = _posted(state_of(entry))
    again = parse_entry(entry_values(form_state(form, form.getlist), "draft"))
    assert again.to_check == TO_CHECK
    assert again == entry


def test_emptying_the_field_clears_to_check() -> None:
    state = state_of(parse_entry(ENTRY))
    state["to_check"] = "   "
    form = _posted(state)
    assert parse_entry(entry_values(form_state(form, form.getlist), "draft")).to_check is None


async def test_a_save_through_the_editor_keeps_to_check(guide_app: Any, kit: Any) -> None:
    async with guide_app.client() as client:
        await kit.login(client, "redaktoer")
        created = await client.post("/api/v1/guide/entries", json=ENTRY)
        assert created.status_code == 201, created.text

        page = await client.get(f"/redaktion/entries/{ENTRY['id']}")
        assert page.status_code == 200
        assert 'id="f-to_check"' in page.text
        assert "Tærsklerne er ikke efterprøvet" in page.text

        state = state_of(parse_entry(ENTRY))
        state["title"] = "Et opslag med noget, der stadig skal tjekkes"
        form = {**_posted(state), "version": "1", "action": "save"}
        saved = await client.post(f"/redaktion/entries/{ENTRY['id']}", data=form)
        assert saved.status_code == 303, saved.text

        stored = (await client.get(f"/api/v1/guide/entries/{ENTRY['id']}")).json()
        assert stored["title"] == state["title"]
        assert stored["to_check"] == TO_CHECK
        history = (await client.get(f"/api/v1/guide/entries/{ENTRY['id']}/versions")).json()
        assert history["versions"][0]["changed"] == ["title"]
