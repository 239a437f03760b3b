"""Danish search: inflections, misspellings, compounds, filters and ranking (pure, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indgang_guide.adapters.content_files import load_content
from indgang_guide.domain.search import Filters, SearchIndex, fold, max_edits, term
from indgang_guide.settings import GuideSettings

CONTENT = load_content(GuideSettings().content_dir)
INDEX = SearchIndex.build(CONTENT.entries)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the word itself and its inflections
        ("løntilskud", "loentilskud"),
        ("løntilskuddet", "loentilskud"),
        ("løntilskuddene", "loentilskud"),
        ("Løntilskud", "loentilskud"),
        # common misspellings and keyboards without æøå
        ("lønstilskud", "loentilskud"),
        ("lontilskud", "loentilskud"),
        ("loentilskud", "loentilskud"),
        ("løntilskudd", "loentilskud"),
        ("løntilskut", "loentilskud"),
        # other words, other forms
        ("virksomhedspraktikken", "virksomhedspraktik"),
        ("fleksjobbet", "fleksjob"),
        ("flexjob", "fleksjob"),
        ("mentorstøtten", "mentorstoette"),
        ("sociale klausuler", "sociale-klausuler"),
        ("social klausul", "sociale-klausuler"),
        ("registreret socialøkonomisk virksomhed", "rsv-registrering"),
        ("forandringsteorien", "forandringsteori-og-maaltrappe"),
        ("beskyttet beskæftigelse", "serviceloven-103-104"),
        ("reserverede kontrakter", "udbudsloven-reserverede-kontrakter"),
    ],
)
def test_finds_the_entry_from_inflected_and_misspelt_words(query: str, expected: str) -> None:
    top_three = [hit.entry.id for hit in INDEX.search(query, limit=3)]
    assert expected in top_three, (query, top_three)


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("løntilskud", "loentilskud"),
        ("løntilskuddet", "loentilskud"),
        ("løntilskuddene", "loentilskud"),
        ("kommunens", "kommun"),
        ("klausuler", "klausul"),
    ],
)
def test_words_become_folded_danish_stems(word: str, stem: str) -> None:
    assert term(word) == stem


def test_folding_and_allowed_typos() -> None:
    assert fold("Æblegrød på Ørsted") == "aeblegroed paa oersted"
    assert [max_edits(n) for n in (3, 4, 7, 8, 12)] == [0, 1, 1, 2, 2]


def test_a_word_inside_a_compound_is_found() -> None:
    # "løntilskudsjob" only occurs as a compound; the plain word finds it too.
    assert "loentilskudsjob" in INDEX.expand(term("løntilskud"))
    assert INDEX.expand(term("tilskud"))  # finds løntilskud, fleksløntilskud, ...


def test_short_words_are_not_fuzzed_into_others() -> None:
    assert INDEX.expand(term("rsv")) == {"rsv": 1.0}


def test_filters_narrow_the_hits() -> None:
    hits = INDEX.search("tilskud", Filters(kind="support_scheme"), limit=50)
    assert hits
    assert all(h.entry.kind.value == "support_scheme" for h in hits)
    by_section = INDEX.search("", Filters(section="offers"), limit=50)
    assert by_section
    assert {h.entry.section.value for h in by_section} == {"offers"}
    by_need = INDEX.search("virksomhed", Filters(need="rsv_registration", stage="idea"))
    assert by_need
    assert all("rsv_registration" in h.entry.needs and "idea" in h.entry.stages for h in by_need)
    external = INDEX.search("løntilskud", Filters(audience="external"))
    assert all(h.entry.audience == "external" for h in external)


def test_drafts_are_not_found_unless_asked_for() -> None:
    drafts = [e for e in CONTENT.entries if e.status == "draft"]
    assert drafts
    draft = drafts[0]
    assert draft.id not in [h.entry.id for h in INDEX.search(draft.title, limit=50)]
    anything = INDEX.search(draft.title, Filters(status=None), limit=5)
    assert draft.id in [h.entry.id for h in anything]


def test_ranked_best_first_with_a_snippet_that_shows_the_word() -> None:
    hits = INDEX.search("løntilskuddene")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].entry.id == "loentilskud"
    assert "løntilskud" in hits[0].snippet.lower()
    assert len(hits[0].snippet) <= 230


def test_an_entry_matching_every_query_word_beats_one_matching_some() -> None:
    hits = INDEX.search("sociale klausuler udbud", limit=5)
    assert hits[0].entry.id == "sociale-klausuler"


def test_no_words_worth_searching_lists_everything_by_title() -> None:
    hits = INDEX.search("og i at", limit=100)
    published = [e for e in CONTENT.entries if e.status == "published"]
    assert len(hits) == len(published)
    assert [h.entry.title for h in hits] == sorted(h.entry.title for h in hits)


def test_nonsense_finds_nothing() -> None:
    assert INDEX.search("xqzvbnm") == []


@given(st.text(max_size=60))
def test_any_query_is_answered(query: str) -> None:
    hits = INDEX.search(query, limit=5)
    assert len(hits) <= 5
    assert all(h.score >= 0 for h in hits)
