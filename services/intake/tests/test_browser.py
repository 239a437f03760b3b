"""The public form in a real browser (Debian's Chromium, driven by Playwright).

Danish characters end to end, the receipt, the event on Kafka, the error page
that keeps what was typed, keyboard-only use, JavaScript off, phone width, and
axe-core (WCAG 2.1 A/AA) on the form, error and receipt pages in both languages.

With INDGANG_SCREENSHOTS=<directory> set, the form and receipt are also saved
there as intake-form.png and intake-receipt.png (1280 wide, full page).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from intake_helpers import client_ip
from playwright.async_api import Browser, Page

from harness import EventLog
from pytest_indgang import System, axe_violations

SCREENSHOTS = os.environ.get("INDGANG_SCREENSHOTS")


async def as_new_visitor(page: Page) -> Page:
    """Each test is its own visitor (own rate-limit bucket), as real people are."""
    await page.set_extra_http_headers({"X-Forwarded-For": client_ip()})
    return page


async def fill_in(page: Page, email: str, *, cvr: str = "DK 35 95 47 16") -> None:
    await page.get_by_label("Organisationens navn").fill("Kaffe & Omsorg – Ærø ApS")
    await page.get_by_label("CVR-nummer").fill(cvr)
    await page.get_by_label("Opstart", exact=True).check()
    await page.get_by_label("Dit navn").fill("Åse Ødegård")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Telefonnummer").fill("20 30 40 50")
    await page.get_by_label("Registrering som socialøkonomisk virksomhed (RSV)").check()
    await page.get_by_label("At ansætte ledige", exact=False).check()
    await page.get_by_label("Fortæl kort om din situation").fill(
        "Vi driver en café på Ærø og vil gerne ansætte to personer i løntilskud.\n"
        "Kan I hjælpe med RSV-registreringen? Æ ø å – <b>tak</b>!"
    )
    await page.get_by_label("Jeg har læst, hvordan kommunen behandler mine oplysninger").check()


async def serious(page: Page) -> list[str]:
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in await axe_violations(page)]


async def test_danish_form_to_receipt_and_kafka(system: System, page: Page) -> None:
    await as_new_visitor(page)
    await page.set_viewport_size({"width": 1280, "height": 900})
    email = f"aase.{uuid.uuid4().hex[:8]}@kaffe.example"
    async with EventLog(system.bootstrap, system.topic("indgang.inquiry-received.v1")) as events:
        await page.goto(system.url("intake") + "/")
        assert await page.get_attribute("html", "lang") == "da"
        # What the municipality can and cannot do comes before the form.
        expectations = page.get_by_role("heading", name="Hvad kan kommunen hjælpe med?")
        await expectations.wait_for()
        assert await page.get_by_text("direkte økonomisk støtte").count() == 1
        assert await page.get_by_text("Den giver Erhvervshuset gratis", exact=False).count() == 1
        guide = page.get_by_role("link", name="Læs mere: Hvad kan kommunen hjælpe med?")
        assert await guide.get_attribute("href") == f"{system.url('guide')}/hjaelp"
        # The privacy notice: summarised by the form, linked in full.
        assert await page.get_by_text("er dataansvarlig", exact=False).count() == 1
        assert await page.get_by_role("link", name="Læs hele privatlivserklæringen").count() == 1
        footer = page.get_by_role("link", name="Tilgængelighedserklæring")
        assert (await footer.get_attribute("href") or "").endswith("/tilgaengelighed")
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=f"{SCREENSHOTS}/intake-form.png", full_page=True)

        await fill_in(page, email)
        await page.get_by_role("button", name="Send henvendelse").click()

        heading = page.get_by_role("heading", name="Tak – vi har modtaget din henvendelse")
        await heading.wait_for()
        reference = (await page.locator("#reference").inner_text()).strip()
        assert reference.startswith("H-")
        assert await page.get_by_text("inden for 3 arbejdsdage", exact=False).count() == 1
        if SCREENSHOTS:
            await page.screenshot(path=f"{SCREENSHOTS}/intake-receipt.png", full_page=True)

        event = await events.wait_for(lambda e: e.data.reference == reference)
    data = event.data
    assert data.channel.value == "web"
    assert data.organisation.name == "Kaffe & Omsorg – Ærø ApS"
    assert data.organisation.cvr == "35954716"
    assert data.contact.name == "Åse Ødegård"
    assert data.contact.phone == "+4520304050"
    assert {n.value for n in data.needs} == {"rsv_registration", "hiring_vulnerable_unemployed"}
    assert "Æ ø å – <b>tak</b>!" in data.description  # stored as the text it was
    assert "ansætte to personer i løntilskud.\nKan I hjælpe" in data.description


async def test_errors_are_summarised_linked_and_keep_what_was_typed(
    system: System, page: Page
) -> None:
    await as_new_visitor(page)
    await page.goto(system.url("intake") + "/")
    await page.get_by_label("Organisationens navn").fill("Grønt Værksted")
    await page.get_by_label("CVR-nummer").fill("12345678")  # fails modulus 11
    await page.get_by_label("Dit navn").fill("Ærlige Øjvind")
    await page.get_by_label("E-mail", exact=True).fill("øjvind@")
    await page.get_by_label("Andet").check()
    await page.get_by_label("Fortæl kort om din situation").fill("<script>alert('x')</script>")
    await page.get_by_role("button", name="Send henvendelse").click()

    summary = page.locator("#error-summary")
    await summary.wait_for()
    assert await page.title() == "Fejl: Kontakt kommunen om socialøkonomi – Ikast-Brande Kommune"
    # The summary comes first, has focus and links to each field in page order.
    assert await page.evaluate("document.activeElement.id") == "error-summary"
    links = summary.get_by_role("link")
    assert [await link.get_attribute("href") for link in await links.all()] == [
        "#organisation-cvr",
        "#organisation-stage-1",
        "#contact-email",
        "#privacy-notice-accepted",
    ]
    # Everything typed is still there; nothing ran as HTML.
    assert await page.get_by_label("Organisationens navn").input_value() == "Grønt Værksted"
    assert await page.get_by_label("CVR-nummer").input_value() == "12345678"
    assert await page.get_by_label("Dit navn").input_value() == "Ærlige Øjvind"
    assert await page.get_by_label("E-mail", exact=True).input_value() == "øjvind@"
    assert await page.get_by_label("Andet").is_checked()
    description = page.get_by_label("Fortæl kort om din situation")
    assert await description.input_value() == "<script>alert('x')</script>"
    # Each field in error says so, and says why.
    cvr = page.get_by_label("CVR-nummer")
    assert await cvr.get_attribute("aria-invalid") == "true"
    described = (await cvr.get_attribute("aria-describedby") or "").split()
    assert described == ["organisation-cvr-hint", "organisation-cvr-error"]
    assert "kontrolciffer" in await page.locator("#organisation-cvr-error").inner_text()
    assert await page.get_by_label("Organisationens navn").get_attribute("aria-invalid") is None
    # Following a link in the summary puts the cursor in the field.
    await summary.get_by_role("link", name="Skriv en gyldig e-mailadresse", exact=False).click()
    assert await page.evaluate("document.activeElement.id") == "contact-email"

    # Corrected, the same page goes through.
    await page.get_by_label("CVR-nummer").fill("")
    await page.get_by_label("Idé", exact=True).check()
    await page.get_by_label("E-mail", exact=True).fill(
        f"oejvind.{uuid.uuid4().hex[:6]}@eksempel.dk"
    )
    await page.get_by_label("Jeg har læst, hvordan kommunen behandler mine oplysninger").check()
    await page.get_by_role("button", name="Send henvendelse").click()
    await page.locator("#reference").wait_for()


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement.id || document.activeElement.tagName"))


async def tab_to(page: Page, target: str, limit: int = 60) -> list[str]:
    """Press Tab until `target` has focus; returns the ids passed on the way."""
    passed = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        now = await focused(page)
        passed.append(now)
        if now == target:
            return passed
    raise AssertionError(f"Tab never reached #{target}; went through {passed}")


async def test_keyboard_only(system: System, page: Page) -> None:
    """Tab, Space, arrow keys and Enter only: no clicks, no filling by script."""
    await as_new_visitor(page)
    await page.goto(system.url("intake") + "/")
    keys = page.keyboard
    await tab_to(page, "organisation-name")
    await keys.type("Tastaturets Værksted")
    await tab_to(page, "organisation-cvr")
    await tab_to(page, "organisation-stage-1")
    await keys.press("Space")
    await tab_to(page, "contact-name")
    await keys.type("Ødis Åberg")
    await tab_to(page, "contact-email")
    await keys.type(f"oedis.{uuid.uuid4().hex[:6]}@eksempel.dk")
    await tab_to(page, "contact-phone")
    await keys.type("+46 8 123 456 78")
    await tab_to(page, "contact-language-1")  # Danish is already chosen
    await tab_to(page, "needs-1")
    await keys.press("Space")
    passed = await tab_to(page, "needs-8")
    assert passed == [f"needs-{i}" for i in range(2, 9)]  # one stop per checkbox, in order
    await keys.press("Space")
    await tab_to(page, "description")
    await keys.type("Vi vil gerne sælge kaffe til kommunen.")
    await tab_to(page, "privacy-notice-accepted")
    await keys.press("Space")
    passed = await tab_to(page, "BUTTON")
    assert "website" not in passed  # the honeypot is not in the tab order
    await keys.press("Enter")
    await page.locator("#reference").wait_for()
    # The receipt's heading has focus, so a screen reader starts there.
    assert await focused(page) == "receipt-title"


async def test_keyboard_order_follows_the_page(system: System, page: Page) -> None:
    await as_new_visitor(page)
    await page.goto(system.url("intake") + "/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"
    await page.keyboard.press("Enter")  # skip to content
    stops = await tab_to(page, "BUTTON", limit=80)
    fields = [s for s in stops if s not in ("A", "BUTTON")]
    assert fields == [
        "organisation-name",
        "organisation-cvr",
        "organisation-stage-1",
        "contact-name",
        "contact-email",
        "contact-phone",
        "contact-language-1",
        *[f"needs-{i}" for i in range(1, 9)],
        "description",
        "privacy-notice-accepted",
    ]


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_no_serious_accessibility_violations(system: System, page: Page, lang: str) -> None:
    await as_new_visitor(page)
    await page.goto(f"{system.url('intake')}/?lang={lang}")
    assert await page.get_attribute("html", "lang") == lang
    assert await serious(page) == []

    submit = "Send henvendelse" if lang == "da" else "Send inquiry"
    await page.get_by_role("button", name=submit).click()
    await page.locator("#error-summary").wait_for()
    assert await page.get_attribute("html", "lang") == lang
    assert await serious(page) == []

    await fill_in_by_id(page, f"axe.{lang}.{uuid.uuid4().hex[:6]}@eksempel.dk")
    await page.get_by_role("button", name=submit).click()
    await page.locator("#reference").wait_for()
    assert await serious(page) == []

    for path in ("/privatliv", "/tilgaengelighed"):
        await page.goto(f"{system.url('intake')}{path}?lang={lang}")
        assert await serious(page) == [], path


async def fill_in_by_id(page: Page, email: str) -> None:
    await page.fill("#organisation-name", "Axe og Øl")
    await page.check("#organisation-stage-3")
    await page.fill("#contact-name", "Åge Ærenfeldt")
    await page.fill("#contact-email", email)
    await page.check("#needs-2")
    await page.fill("#description", "Vi vil gerne ansætte en person i fleksjob.")
    await page.check("#privacy-notice-accepted")


async def test_english_pages(system: System, page: Page) -> None:
    await as_new_visitor(page)
    await page.goto(system.url("intake") + "/")
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", name="What can the municipality help with?").wait_for()
    await page.get_by_role("button", name="Send inquiry").click()
    await page.get_by_role("heading", name="There are problems with your inquiry").wait_for()
    assert await page.get_by_role("link", name="Enter your name.").count() == 1
    await fill_in_by_id(page, f"english.{uuid.uuid4().hex[:6]}@example.com")
    await page.get_by_role("button", name="Send inquiry").click()
    await page.get_by_role("heading", name="Thank you – we have received your inquiry").wait_for()


@pytest.fixture
async def no_js_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        locale="da-DK",
        java_script_enabled=False,
        viewport={"width": 360, "height": 740},  # a phone
        extra_http_headers={"X-Forwarded-For": client_ip()},
    )
    page = await context.new_page()
    yield page
    await context.close()


async def test_works_without_javascript_on_a_phone(system: System, no_js_page: Page) -> None:
    page = no_js_page
    await page.goto(system.url("intake") + "/")
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 360, f"the page is {wide}px wide on a 360px screen"
    await page.get_by_role("button", name="Send henvendelse").click()
    await page.locator("#error-summary").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await fill_in_by_id(page, f"nojs.{uuid.uuid4().hex[:6]}@eksempel.dk")
    await page.get_by_role("button", name="Send henvendelse").click()
    await page.locator("#reference").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def test_staff_form_is_worded_for_staff(system: System, page: Page) -> None:
    """A consultant registers a phone call on someone's behalf (issue 13, point 11): the
    form speaks about the inquirer, names every code by the shared label table, says the
    errors about the inquirer, and the receipt shows the phone the Danish way."""
    base = system.url("intake")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{base}/medarbejder/henvendelse")
    await page.get_by_label("Brugernavn").fill("ane-kjaer")
    await page.get_by_label("Adgangskode").fill("indgang-dev")
    await page.get_by_role("button", name="Log ind").click()
    await page.get_by_role("heading", name="Registrér en henvendelse").wait_for()
    assert await page.get_by_label("Henvenderens navn").count() == 1
    assert await page.get_by_label("Dit navn").count() == 0
    assert await page.get_by_role("group", name="Hvad vil henvenderen have hjælp til?").count() == 1
    assert await page.get_by_label("Ansættelse af udsatte ledige").count() == 1  # the shared label
    assert await page.get_by_label("Personligt fremmøde").count() == 1
    assert await serious(page) == []

    await page.get_by_role("button", name="Registrér henvendelse").click()
    summary = page.locator("#error-summary")
    await summary.wait_for()
    assert await summary.get_by_role("link", name="Skriv henvenderens navn.").count() == 1
    assert await serious(page) == []

    await page.get_by_label("Telefon", exact=True).check()
    await page.get_by_label("Organisationens navn").fill("Cykelværkstedet Ærø")
    await page.get_by_label("Opstart", exact=True).check()
    await page.get_by_label("Henvenderens navn").fill("Øjvind Ågesen")
    email = f"oejvind.{uuid.uuid4().hex[:6]}@eksempel.dk"
    await page.get_by_label("Henvenderens e-mail").fill(email)
    await page.get_by_label("Henvenderens telefonnummer").fill("20304050")
    await page.get_by_label("Kurser og mentoruddannelse").check()
    await page.get_by_label("Beskriv kort henvenderens situation").fill("Ringede om mentorkurser.")
    await page.get_by_label("Henvenderen er orienteret om privatlivserklæringen").check()
    await page.get_by_role("button", name="Registrér henvendelse").click()
    await page.get_by_role("heading", name="Henvendelsen er registreret").wait_for()
    assert await page.get_by_text("Øjvind Ågesen, +45 20 30 40 50").count() == 1
    assert await serious(page) == []
