"""The guide's content files validate; published legislation cites its source."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.adapters.content_files import ContentError, load_content
from indgang_guide.domain.entries import Entry, EntryKind, SectionId
from indgang_guide.domain.recommendations import recommend
from indgang_guide.settings import GuideSettings

CONTENT = load_content(GuideSettings().content_dir)


def test_four_sections_in_the_seeds_order() -> None:
    assert [s.id for s in CONTENT.sections] == list(SectionId)


def test_enough_published_entries_in_every_section() -> None:
    published = [e for e in CONTENT.entries if e.status == "published"]
    assert len(published) >= 25
    per_section = Counter(e.section for e in published)
    assert all(per_section[s] >= 5 for s in SectionId)


def test_published_legislation_has_official_text_and_source() -> None:
    for entry in CONTENT.entries:
        if entry.kind is EntryKind.LEGISLATION and entry.status == "published":
            assert entry.official_url is not None
            assert entry.sources, entry.id


def test_every_factual_entry_cites_a_source() -> None:
    assert all(e.sources for e in CONTENT.entries if e.status == "published"), [
        e.id for e in CONTENT.entries if not e.sources
    ]


def test_invalid_content_file_is_refused_with_the_entry_named(tmp_path: Path) -> None:
    (tmp_path / "1.toml").write_text(
        '[section]\nid = "offers"\ntitle = "T"\ntitle_en = "T"\ndescription = "D"\n'
        '[[entry]]\nid = "lov-uden-kilde"\nkind = "legislation"\ntitle = "En lov"\n'
        'summary = "S"\nbody = "B"\naudience = "internal"\nowner = "O"\n'
        'review_by = 2027-01-01\nstatus = "published"\nlaw = "L"\nlaw_reference = "R"\n'
        'official_url = "not a url"\n',
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as caught:
        load_content(tmp_path)
    assert "lov-uden-kilde" in str(caught.value)
    assert "official_url" in str(caught.value)


def test_recommendations_for_hiring_put_hiring_entries_first() -> None:
    ranked = recommend(
        CONTENT.entries, [Need.HIRING_VULNERABLE_UNEMPLOYED], OrganisationStage.START_UP, 5
    )
    assert len(ranked) == 5
    by_id = {e.id: e for e in CONTENT.entries}
    top: Entry = by_id[ranked[0].entry_id]
    assert Need.HIRING_VULNERABLE_UNEMPLOYED in top.needs
    assert ranked == recommend(
        CONTENT.entries, [Need.HIRING_VULNERABLE_UNEMPLOYED], OrganisationStage.START_UP, 5
    )


def test_entries_marked_for_review_say_what_to_check() -> None:
    # What to check is for staff (to_check), never in the text an enterprise reads.
    unverified = [e for e in CONTENT.entries if e.needs_review]
    assert unverified
    for entry in unverified:
        assert entry.to_check, entry.id


def test_every_entry_past_its_review_date_says_what_to_check() -> None:
    """Issue 13, point 12: an entry past its review date is either re-checked (a new
    date, only when verified) or marked with what to check and against which source."""
    today = date(2026, 12, 2)
    for entry in CONTENT.entries:
        if entry.review_by < today:
            assert entry.to_check, entry.id
            where = r"retsinformation|ft\.dk|star|styrelse|ministeri|kommune"
            assert re.search(where, entry.to_check, re.IGNORECASE), entry.id


def test_external_texts_hold_no_editing_notes() -> None:
    # The public page and the mails show summary, body and the kind's facts.
    notes = re.compile(r"skal (verificeres|tjekkes|udfyldes|bekræftes)|kladde:", re.IGNORECASE)
    for entry in CONTENT.entries:
        if entry.audience == "external":
            shown = " ".join(
                str(v or "")
                for v in (entry.summary, entry.body, entry.price, entry.eligibility,
                          entry.provider, entry.contact, entry.how_to_apply)
            )  # fmt: skip
            assert not notes.search(shown), entry.id


def test_no_legacy_or_closed_sources_without_a_note() -> None:
    # Legacy star.dk pages (…/*.aspx) and the closed growth centre's site
    # (socialvirksomhed.dk) are replaced, or the entry says what to check.
    for entry in CONTENT.entries:
        urls = [str(s.url) for s in entry.sources]
        assert not any(re.search(r"star\.dk/.*\.aspx", u, re.IGNORECASE) for u in urls), entry.id
        if any("socialvirksomhed.dk" in u for u in urls):
            assert entry.to_check, entry.id
            assert "socialvirksomhed.dk" in entry.to_check, entry.id


@pytest.mark.parametrize(
    "path", sorted(GuideSettings().content_dir.glob("*.toml")), ids=lambda p: p.name
)
def test_every_content_file_validates_on_its_own(path: Path, tmp_path: Path) -> None:
    (tmp_path / path.name).write_bytes(path.read_bytes())
    loaded = load_content(tmp_path)
    assert len(loaded.sections) == 1
    assert loaded.entries


def test_external_entries_hold_no_notes_meant_for_staff() -> None:
    # External texts are sent to enterprises and shown on /hjaelp: no "du" to the
    # consultant, no notes about the case file or the editing.
    staff_words = re.compile(r"\b(du|dig|sagen|opdatér opslaget)\b", re.IGNORECASE)
    for entry in CONTENT.entries:
        if entry.audience == "external":
            assert not staff_words.search(entry.summary + " " + entry.body), entry.id


def test_entries_with_known_errors_say_what_to_check_and_keep_their_review_date() -> None:
    """Issue 13, point 12: facts that could not be verified here are marked for staff
    (`to_check`, on the staff page and in the review list), not invented."""
    by_id = {e.id: e for e in CONTENT.entries}
    today = date(2026, 12, 2)
    for entry_id, where in [
        ("sociale-klausuler", "BEK nr. 1079"),
        ("rimelighedskrav-og-merbeskaeftigelse", "retsinformation.dk"),
        ("en-indgang-forventninger", "teamopsætning"),
        ("beskaeftigelsesreform-2026", "ft.dk"),
        ("fleksjob", "STAR"),
    ]:
        entry = by_id[entry_id]
        assert entry.to_check, entry_id
        assert where in entry.to_check, entry_id
        assert entry.is_due_for_review(today), entry_id
    assert by_id["sociale-klausuler"].review_by == date(2027, 6, 30)  # not re-checked: kept
    # What could not be verified is out of the text, and the four known errors are fixed.
    klausuler = by_id["sociale-klausuler"]
    assert "5 mio" not in klausuler.summary + klausuler.body
    assert "1. juli 2022" not in klausuler.summary + klausuler.body
    assert any("eli/lta/2022/1079" in str(s.url) for s in klausuler.sources)
    rimelighed = by_id["rimelighedskrav-og-merbeskaeftigelse"]
    assert "altid plads til mindst én person" in rimelighed.body
    assert "1. januar 2027" not in rimelighed.body
    team = by_id["en-indgang-forventninger"]
    assert "team af socialøkonomiske konsulenter" in team.body
    assert "stedfortræder" in team.body
    assert "grundlæggende, lokal erhvervsvejledning" in team.body
    reform = by_id["beskaeftigelsesreform-2026"]
    assert "1750" not in reform.summary + reform.body + str(reform.law_reference)
    assert "L 66" in reform.summary
    eifo_sources = [s.url for s in by_id["eifo-finansiering"].sources]
    assert not any("finpliance" in str(url) for url in eifo_sources)  # a private page, gone
