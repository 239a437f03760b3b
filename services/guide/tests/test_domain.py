"""Entry rules with per-field errors, versions, the file-load rule and ranking (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.domain.entries import InvalidEntry, content_hash, parse_entry
from indgang_guide.domain.recommendations import recommend
from indgang_guide.domain.versions import (
    CONTENT_FILE,
    FileLoad,
    changed_fields,
    describe_changes,
    file_load_decision,
)

VALID: dict[str, Any] = {
    "id": "sociale-klausuler-test",
    "section": "social_value_partnership",
    "kind": "article",
    "title": "Sociale klausuler",
    "summary": "Kort.",
    "body": "Første afsnit.\n\nAndet afsnit.",
    "needs": ["selling_to_municipality"],
    "stages": ["start_up"],
    "audience": "external",
    "owner": "Konsulenten",
    "review_by": "2027-01-01",
    "status": "published",
    "sources": [{"title": "Kilde", "url": "https://example.dk/kilde"}],
}


def test_a_valid_entry_parses_and_splits_into_paragraphs() -> None:
    entry = parse_entry(VALID)
    assert entry.paragraphs() == ["Første afsnit.", "Andet afsnit."]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"section": None}, "section", "Vælg"),
        ({"section": "nowhere"}, "section", "Vælg"),
        ({"title": ""}, "title", "udfyldes"),
        ({"id": "Med Store Bogstaver"}, "id", "små bogstaver"),
        ({"review_by": "snart"}, "review_by", "dato"),
        ({"audience": "alle"}, "audience", "Vælg"),
        ({"sources": [{"title": "Kilde", "url": "www.uden-skema"}]}, "sources", "Kilde 1"),
        ({"official_url": "ikke en adresse"}, "official_url", "webadresse"),
        ({"kind": "legislation", "sources": []}, "sources", "mindst én kilde"),
        ({"kind": "legislation"}, "law", "loven"),
        ({"kind": "legislation"}, "official_url", "lovtekst"),
        ({"kind": "support_scheme"}, "administered_by", "administrerer"),
        ({"kind": "offer"}, "provider", "udbyderen"),
    ],
)
def test_invalid_entries_are_refused_with_an_error_on_the_field(
    change: dict[str, Any], field: str, words: str
) -> None:
    values = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    with pytest.raises(InvalidEntry) as caught:
        parse_entry(values)
    assert field in caught.value.errors, caught.value.errors
    assert words in caught.value.errors[field]


def test_all_problems_are_reported_at_once() -> None:
    values = {**VALID, "kind": "legislation", "title": "", "sources": []}
    with pytest.raises(InvalidEntry) as caught:
        parse_entry(values)
    assert {"title", "law", "law_reference", "official_url", "sources"} <= set(caught.value.errors)


def test_changed_fields_name_what_changed() -> None:
    old = parse_entry(VALID)
    new = parse_entry({**VALID, "title": "Nye sociale klausuler", "tags": ["udbud"]})
    assert changed_fields(old, new) == ["title", "tags"]
    assert describe_changes(["title", "tags"]) == "titel, nøgleord"
    assert "title" in changed_fields(None, old)
    assert changed_fields(old, old) == []
    assert content_hash(old) == content_hash(parse_entry(VALID))
    assert content_hash(old) != content_hash(new)


@pytest.mark.parametrize(
    ("stored_hash", "last_saved_by", "file_hash", "decision"),
    [
        (None, None, "a", FileLoad.INSERT),
        ("a", CONTENT_FILE, "a", FileLoad.UNCHANGED),
        ("a", "redaktoer", "a", FileLoad.UNCHANGED),  # edited, file untouched: keep edits
        ("a", CONTENT_FILE, "b", FileLoad.APPLY),  # file changed, nobody edited
        ("a", "redaktoer", "b", FileLoad.KEEP_EDITOR_VERSION),  # never overwrite editors
        (None, "redaktoer", "b", FileLoad.KEEP_EDITOR_VERSION),  # created in the editor
    ],
)
def test_content_files_never_overwrite_editors(
    stored_hash: str | None, last_saved_by: str | None, file_hash: str, decision: FileLoad
) -> None:
    assert file_load_decision(stored_hash, last_saved_by, file_hash) is decision


def _entry(entry_id: str, **change: Any) -> Any:
    return parse_entry({**VALID, "id": entry_id, "title": f"Opslag {entry_id}", **change})


def test_recommendations_rank_needs_then_stage_then_sendable() -> None:
    hiring = Need.HIRING_VULNERABLE_UNEMPLOYED
    entries = [
        _entry("both-needs", needs=[hiring, "legislation"], stages=[]),
        _entry("one-need-stage", needs=[hiring], stages=["start_up"]),
        _entry("one-need-internal", needs=[hiring], stages=[], audience="internal"),
        _entry("one-need-external", needs=[hiring], stages=[]),
        _entry("other-need", needs=["rsv_registration"]),
        _entry("draft", needs=[hiring], status="draft"),
        _entry("stale", needs=[hiring], stages=[], review_by="2020-01-01"),
    ]
    ranked = recommend(
        entries,
        [hiring, Need.LEGISLATION],
        OrganisationStage.START_UP,
        limit=10,
        today=date(2026, 6, 1),
    )
    assert [r.entry_id for r in ranked] == [
        "both-needs",
        "one-need-stage",
        "one-need-external",
        "one-need-internal",
        "stale",
    ]
    assert ranked[0].why.startswith(
        "Matcher behov: Ansættelse af udsatte ledige. "
        "Dækker behovene »Ansættelse af udsatte ledige« og »Lovgivning«"
    )
    assert "passer til fasen »Opstart«" in ranked[1].why
    assert "Kan sendes til virksomheden" in ranked[2].why
    assert "Kun til internt brug" in ranked[3].why
    assert "Bør tjekkes" in ranked[4].why
    assert recommend(entries, [hiring], None, limit=2) == recommend(entries, [hiring], None, 2)
    assert len(recommend(entries, [hiring], None, limit=2)) == 2
    assert recommend(entries, [Need.COURSES_AND_MENTOR_TRAINING], None) == []


def test_recommendations_put_focused_entries_before_broad_articles() -> None:
    """Issue 13, point 7: "løntilskud + RSV + salg til kommunen" shows wage subsidy,
    RSV registration and becoming a supplier before broad articles, with the reason."""
    hiring, rsv, selling = (
        Need.HIRING_VULNERABLE_UNEMPLOYED,
        Need.RSV_REGISTRATION,
        Need.SELLING_TO_MUNICIPALITY,
    )
    entries = [
        _entry(
            "broad-article", kind="article", needs=["business_development", rsv, selling, hiring]
        ),
        _entry("social-value", kind="article", needs=["business_development", selling, rsv]),
        _entry("loentilskud", needs=[hiring, "funding_and_support"]),
        _entry("rsv-registrering", needs=[rsv, "legislation"]),
        _entry("saelg-til-kommunen", needs=[selling, "business_development"]),
    ]
    ranked = recommend(entries, [hiring, rsv, selling], None, limit=5, today=date(2026, 6, 1))
    assert [r.entry_id for r in ranked] == [
        "loentilskud",
        "rsv-registrering",
        "saelg-til-kommunen",
        "broad-article",
        "social-value",
    ]
    assert ranked[0].why.startswith("Matcher behov: Ansættelse af udsatte ledige.")
    assert ranked[1].why.startswith(
        "Matcher behov: Registrering som socialøkonomisk virksomhed (RSV)."
    )
    assert ranked[2].why.startswith("Matcher behov: Salg til kommunen (udbud, sociale klausuler).")
    assert "Matcher behov" not in ranked[3].why
