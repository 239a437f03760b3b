"""The editor's HTML form <-> entry values (the domain validates; this only reshapes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indgang_guide.domain.entries import Entry

TEXT_FIELDS = (
    "id",
    "section",
    "kind",
    "title",
    "summary",
    "body",
    "audience",
    "owner",
    "review_by",
    "to_check",
    "law",
    "law_reference",
    "section_ref",
    "official_url",
    "administered_by",
    "eligibility",
    "how_to_apply",
    "provider",
    "contact",
    "price",
)
OPTIONAL = frozenset(
    {
        "to_check",
        "law",
        "law_reference",
        "section_ref",
        "official_url",
        "administered_by",
        "eligibility",
        "how_to_apply",
        "provider",
        "contact",
        "price",
    }
)


def parse_sources(text: str) -> list[dict[str, str]]:
    """`title | url` per line; a line with only an address uses it as its title too."""
    sources = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        title, bar, url = line.rpartition("|")
        if not bar:
            title, url = line, line
        sources.append({"title": title.strip(), "url": url.strip()})
    return sources


def form_state(form: Mapping[str, Any], getlist: Any) -> dict[str, Any]:
    """What the editor typed, kept as typed (shown again with the errors)."""
    state: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    state["needs"] = list(getlist("needs"))
    state["stages"] = list(getlist("stages"))
    state["tags"] = str(form.get("tags", ""))
    state["sources"] = str(form.get("sources", ""))
    state["needs_review"] = form.get("needs_review") == "on"
    return state


def entry_values(state: dict[str, Any], status: str) -> dict[str, Any]:
    """The typed form as entry values for validation (empty optional fields are absent)."""
    values: dict[str, Any] = {
        name: state[name]
        for name in TEXT_FIELDS
        if not (name in OPTIONAL and not state[name]) and not (name == "id" and not state[name])
    }
    for required in ("section", "kind", "audience", "review_by"):
        if not state[required]:
            values.pop(required, None)
    values["needs"] = state["needs"]
    values["stages"] = state["stages"]
    values["tags"] = [t.strip() for t in state["tags"].split(",") if t.strip()]
    values["sources"] = parse_sources(state["sources"])
    values["needs_review"] = state["needs_review"]
    values["status"] = status
    return values


def state_of(entry: Entry) -> dict[str, Any]:
    """An entry as the form shows it."""
    data = entry.model_dump(mode="json")
    state: dict[str, Any] = {name: data.get(name) or "" for name in TEXT_FIELDS}
    state["needs"] = data["needs"]
    state["stages"] = data["stages"]
    state["tags"] = ", ".join(entry.tags)
    state["sources"] = "\n".join(f"{s.title} | {s.url}" for s in entry.sources)
    state["needs_review"] = entry.needs_review
    return state


def empty_state(owner: str, review_by: str) -> dict[str, Any]:
    state: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    state.update(
        needs=[], stages=[], tags="", sources="", needs_review=False, owner=owner,
        review_by=review_by, audience="internal", kind="article",
    )  # fmt: skip
    return state
