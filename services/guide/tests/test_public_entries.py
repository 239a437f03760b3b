"""`/hjaelp/{entry_id}` is the municipality's own public page for an external entry; the
mails that share guide entries link to it (issue 13, point 7). Every published external
entry has one, in Danish and English, with the unit beside it (name, phone the Danish
way, address: points 9-10) and nothing meant for staff; internal entries and drafts
are 404 there. The overview and the entry page say the same about erhvervsfremmeloven
§ 14 as intake's form."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from indgang_guide.adapters.content_files import load_content
from indgang_guide.settings import GuideSettings

ENTRIES = load_content(GuideSettings().content_dir).entries
EXTERNAL = sorted(e.id for e in ENTRIES if e.audience == "external" and e.status == "published")
NOT_PUBLIC = sorted(e.id for e in ENTRIES if e.audience == "internal" or e.status == "draft")


# A template key ("help.contact", "unit.title") or a code shown raw ("hiring_vulnerable_…").
KEY = re.compile(r"\b(help|entry|unit|nav|search|field|editor)\.[a-z_]+\b")
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def text_of(page: str) -> str:
    """The page's visible text, roughly: tags out, entities decoded, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_there_are_both_kinds() -> None:
    assert len(EXTERNAL) >= 10
    assert "erhvervsfremmeloven-paragraf-14" in NOT_PUBLIC
    assert "lokalt-socialokonomisk-netvaerk" in NOT_PUBLIC  # a draft


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_every_external_entry_has_its_public_page(guide_app: Any, lang: str) -> None:
    settings = guide_app.app.state.settings
    catalogue = guide_app.app.state.catalogue
    async with guide_app.client() as public:
        for entry_id in EXTERNAL:
            response = await public.get(f"/hjaelp/{entry_id}", params={"lang": lang})
            assert response.status_code == 200, entry_id
            entry = catalogue.get(entry_id).entry
            page = response.text
            text = text_of(page)
            assert f'<html lang="{lang}"' in page
            assert html.escape(entry.title, quote=False) in page
            # The unit beside it, the phone the Danish way, and the form.
            assert settings.unit_name in text
            assert "12 34 56 78" in text
            assert 'href="tel:12345678"' in page
            assert settings.unit_address in text
            assert f'href="{settings.intake_form_url}"' in page
            assert not KEY.search(text), (entry_id, KEY.search(text))
            assert not RAW_CODE.search(text), (entry_id, RAW_CODE.search(text))
            # Nothing meant for staff.
            if entry.to_check:
                assert entry.to_check not in text, entry_id
            for staff_only in ("Skal tjekkes", "Must be checked", "skal tjekkes", entry.owner):
                assert staff_only not in text, (entry_id, staff_only)
            if lang == "en":
                assert "This text is only available in Danish." in text
                assert '<article lang="da">' in page


async def test_internal_entries_and_drafts_are_not_found(guide_app: Any) -> None:
    async with guide_app.client() as public:
        for entry_id in [*NOT_PUBLIC, "no-such-entry"]:
            assert (await public.get(f"/hjaelp/{entry_id}")).status_code == 404, entry_id


async def test_the_overview_says_what_the_form_says_about_paragraph_14(guide_app: Any) -> None:
    async with guide_app.client() as public:
        text = text_of((await public.get("/hjaelp", params={"lang": "da"})).text)
        english = text_of((await public.get("/hjaelp", params={"lang": "en"})).text)
    for shown in (text, english):
        assert not KEY.search(shown), KEY.search(shown)
        assert not RAW_CODE.search(shown), RAW_CODE.search(shown)
    assert "grundlæggende, lokal erhvervsvejledning" in text
    assert "erhvervsfremmeloven § 14" in text
    assert "specialiseret forretningsrådgivning, fx om forretningsplan" in text
    assert "Den giver Erhvervshuset gratis" in text
    # It never promises help with the business plan, which the guide refers on.
    assert not re.search(
        r"hjælp[a-z]* (dig |jer )?(med|til) (at lave |din |jeres )?forretningsplan", text
    )
    assert "12 34 56 78" in text
