"""The pages in a real browser (Chromium via Playwright) against the guide as a real
process: the public help page, an external entry's public page, the staff search and
the editor. axe-core checks each page for serious and critical WCAG 2.1 AA problems.

With INDGANG_SCREENSHOTS=<directory> set, the public entry page is also saved there as
guide-public-entry.png (1280 wide, full page)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page, expect

from harness import ServiceProcess
from pytest_indgang import axe_violations

SCREENSHOTS = os.environ.get("INDGANG_SCREENSHOTS")


async def _login(page: Page, base: str, path: str, user: str) -> None:
    await page.goto(f"{base}{path}")
    await page.get_by_label("Brugernavn").fill(user)
    await page.get_by_label("Adgangskode").fill("indgang-dev")
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url(f"{base}{path}")


async def test_public_help_page(page: Page, guide_process: ServiceProcess) -> None:
    await page.goto(f"{guide_process.url}/hjaelp")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hvad kan kommunen hjælpe med?")
    await expect(page.get_by_role("heading", name="Det kan kommunen ikke")).to_be_visible()
    assert "direkte økonomisk støtte" in await page.inner_text("main")
    for section in ("Opstart og drift", "Tilbud", "Social værdi"):
        await expect(page.get_by_role("heading", level=3, name=section).first).to_be_visible()
    # Internal entries and drafts never reach the public page.
    main = await page.inner_text("main")
    assert "Erhvervsfremmeloven § 14: rammerne" not in main
    assert "Lokalt netværk for socialøkonomiske virksomheder" not in main
    assert await page.get_by_role("link", name="Gå til formularen").count() == 1
    assert await axe_violations(page) == []

    await page.get_by_role("link", name="Ansættelse med løntilskud").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ansættelse med løntilskud")
    await expect(page.get_by_role("heading", name="Kilder")).to_be_visible()
    assert await axe_violations(page) == []

    await page.goto(f"{guide_process.url}/hjaelp?lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "What can the municipality help with?"
    )
    assert await page.get_attribute("html", "lang") == "en"
    assert await axe_violations(page) == []


async def test_public_entry_page_the_mails_link_to(
    page: Page, guide_process: ServiceProcess
) -> None:
    """/hjaelp/{entry_id}: the municipality's own page for an external entry (issue 13,
    point 7), with the unit beside it (points 9-10), nothing meant for staff, in Danish
    and English, at desktop and phone width; an internal entry is not there."""
    base = guide_process.url
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{base}/hjaelp/fleksjob")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fleksjob")
    unit = page.get_by_role("complementary", name="Her finder du os")
    await expect(unit).to_contain_text("Erhvervsservice, Socialøkonomisk indgang")
    await expect(unit.get_by_role("link", name="12 34 56 78")).to_have_attribute(
        "href", "tel:12345678"
    )
    await expect(unit).to_contain_text("Centerparken 1, 7330 Brande")
    await expect(unit.get_by_role("link", name="Gå til formularen")).to_be_visible()
    main = await page.inner_text("main")
    for staff_only in ("Skal tjekkes", "gamle STAR-adresse", "Socialøkonomisk konsulent,"):
        assert staff_only not in main, staff_only
    await expect(page.get_by_role("heading", name="Kilder")).to_be_visible()
    assert await axe_violations(page) == []
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/guide-public-entry.png", full_page=True)

    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    assert await axe_violations(page) == []

    await page.goto(f"{base}/hjaelp/fleksjob?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await expect(page.get_by_text("This text is only available in Danish.")).to_be_visible()
    await expect(page.get_by_role("complementary", name="Where to find us")).to_be_visible()
    assert await page.get_attribute("article", "lang") == "da"
    assert await axe_violations(page) == []
    await page.get_by_role("link", name="Back to the overview").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "What can the municipality help with?"
    )

    internal = await page.goto(f"{base}/hjaelp/erhvervsfremmeloven-paragraf-14")
    assert internal is not None
    assert internal.status == 404


async def test_staff_search_finds_loentilskud_misspelt(
    page: Page, guide_process: ServiceProcess
) -> None:
    await _login(page, guide_process.url, "/guide", "ane-kjaer")
    await page.get_by_label("Søg").fill("lontilskuddet")
    await page.get_by_label("Sektion").select_option("employing_vulnerable_unemployed")
    await page.get_by_role("button", name="Søg").click()
    results = page.get_by_role("list", name="Resultater")
    await expect(results.get_by_role("link").first).to_have_text("Ansættelse med løntilskud")
    assert await axe_violations(page) == []
    await results.get_by_role("link").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ansættelse med løntilskud")
    # A consultant reads, but the editor is not theirs.
    assert await page.get_by_role("link", name="Redigér").count() == 0
    response = await page.goto(f"{guide_process.url}/redaktion")
    assert response is not None
    assert response.status == 403


async def test_editor_edits_previews_publishes_and_sees_history(
    page: Page, guide_process: ServiceProcess
) -> None:
    base = guide_process.url
    await _login(page, base, "/redaktion", "redaktoer")
    await expect(page.get_by_role("heading", name="Skal revideres")).to_be_visible()
    # what could not be verified is listed with what to check (issue 13, point 12)
    await expect(page.get_by_text("Skal tjekkes: Tærsklerne").first).to_be_visible()
    assert await axe_violations(page) == []

    await page.get_by_role("link", name="Sociale klausuler i kommunens indkøb").first.click()
    summary = page.get_by_label("Resumé")
    old_summary = await summary.input_value()
    new_summary = "Kommunen kan stille sociale klausuler, fx om praktikpladser, i sine kontrakter."
    await summary.fill(new_summary)
    await page.get_by_role("button", name="Forhåndsvis").click()
    preview = page.get_by_role("region", name="Forhåndsvisning")
    await expect(preview).to_contain_text(new_summary)
    await expect(page.get_by_label("Resumé")).to_have_value(new_summary)  # kept, not saved
    assert await axe_violations(page) == []

    # A broken source link and no title: refused, errors summarised, values kept.
    await page.get_by_label("Titel").fill("")
    sources = page.get_by_label("Kilder")
    await sources.fill((await sources.input_value()) + "\nEn kilde | www.uden-https.dk")
    await page.get_by_role("button", name="Gem ny version").click()
    summary_box = page.locator("#error-summary")
    await expect(summary_box).to_contain_text("Der er problemer")
    await expect(summary_box.get_by_role("link", name="Titel: Skal udfyldes.")).to_be_visible()
    await expect(summary_box).to_contain_text("webadresse")
    await expect(page.get_by_label("Resumé")).to_have_value(new_summary)
    assert await axe_violations(page) == []

    await page.get_by_label("Titel").fill("Sociale klausuler i kommunens indkøb")
    await sources.fill("\n".join((await sources.input_value()).splitlines()[:-1]))
    await page.get_by_role("button", name="Gem ny version").click()
    await expect(page.get_by_role("status")).to_contain_text("Gemt som version 2")

    await page.get_by_role("button", name="Afpublicér").click()
    await expect(page.get_by_role("status")).to_contain_text("Afpubliceret i version 3")
    await page.get_by_role("button", name="Udgiv").click()
    await expect(page.get_by_role("status")).to_contain_text("Udgivet som version 4")

    history = page.get_by_role("table", name="Versionshistorik")
    await expect(history.get_by_role("row")).to_have_count(5)  # header + 4 versions
    await expect(history).to_contain_text("resumé")
    await history.get_by_role("link", name="Vis version 1").click()
    await expect(page.get_by_text("Du ser en tidligere version")).to_be_visible()
    await expect(page.get_by_text(old_summary)).to_be_visible()
    assert await axe_violations(page) == []

    await page.goto(f"{base}/hjaelp/sociale-klausuler")
    await expect(page.get_by_text(new_summary)).to_be_visible()
