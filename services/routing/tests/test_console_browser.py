"""The console in a real browser (Debian's Chromium, driven by Playwright), with routing
and guide as real processes on the real broker and store.

Ane logs in, finds the case an inquiry opened for her, sees the guide's
suggestions, logs first contact and refers the case to the job centre; the job
centre answers through the department API with its key; the answer is on the
timeline. The same without JavaScript; the team lead's pages; axe-core
(WCAG 2.1 A/AA, serious and critical) on every page visited.

With INDGANG_SCREENSHOTS=<directory> set, the pages are also saved there as
console-*.png (1280 wide, full page).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page
from pymongo import AsyncMongoClient

from indgang_contracts.envelope import encode
from indgang_contracts.events import InquiryReceived
from indgang_contracts.examples import INQUIRY_RECEIVED

from harness import (
    KAFKA_BOOTSTRAP,
    MONGODB_URI,
    EventLog,
    ServiceProcess,
    eventually,
    produce,
    service_env,
)
from pytest_indgang import axe_violations, drop_run

SCREENSHOTS = os.environ.get("INDGANG_SCREENSHOTS")


@dataclass
class Stack:
    run_id: str
    routing: ServiceProcess
    guide: ServiceProcess

    def topic(self, name: str) -> str:
        return f"test-{self.run_id}.{name}"


@pytest.fixture(scope="module")
async def stack(infra: None) -> AsyncIterator[Stack]:
    run_id = f"con{uuid.uuid4().hex[:5]}"
    guide = ServiceProcess("guide", service_env(run_id, "guide", KAFKA_BOOTSTRAP))
    routing = ServiceProcess(
        "routing",
        {
            **service_env(run_id, "routing", KAFKA_BOOTSTRAP),
            "GUIDE_URL": guide.url,
            "OVERDUE_CHECK_SECONDS": "1",  # the overdue jobs tick every second
        },
    )
    guide.start()
    routing.start()
    try:
        await guide.wait_ready()
        await routing.wait_ready()
        yield Stack(run_id, routing, guide)
    finally:
        routing.stop()
        guide.stop()
        await drop_run(run_id)


async def send_inquiry(stack: Stack, name: str) -> InquiryReceived:
    """An inquiry as intake publishes it; returns it once routing has opened its case."""
    n = uuid.uuid4().int % 10**7
    data = INQUIRY_RECEIVED.model_dump(mode="json")
    data.update(
        {
            "inquiry_id": str(uuid.uuid4()),
            "reference": f"H-C{n:07}",
            "organisation_key": f"email:{n}@browser.example",
            "organisation": {"name": name, "cvr": None, "stage": "start_up"},
            "received_at": datetime.now(UTC).isoformat(),
        }
    )
    inquiry = InquiryReceived.model_validate(data)
    record = encode(inquiry, source="/test/browser")
    headers = [(k, v.encode()) for k, v in record.headers.items()]
    await produce(
        KAFKA_BOOTSTRAP,
        stack.topic("indgang.inquiry-received.v1"),
        record.value,
        record.key.encode(),
        headers,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI)
    try:
        cases = client[f"t_{stack.run_id}_routing"]["cases"]

        async def opened() -> dict[str, Any] | None:
            return await cases.find_one({"inquiry_ids": inquiry.inquiry_id})

        await eventually(opened)
    finally:
        await client.close()
    return inquiry


async def log_in(page: Page, url: str, user: str) -> None:
    await page.goto(url)
    await page.get_by_label("Brugernavn").fill(user)
    await page.get_by_label("Adgangskode").fill("indgang-dev")
    await page.get_by_role("button", name="Log ind").click()


async def check_accessible(page: Page, shot: str | None = None) -> None:
    violations = [f"{v['id']}: {v['help']}" for v in await axe_violations(page)]
    assert violations == [], violations
    if SCREENSHOTS and shot:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/console-{shot}.png", full_page=True)


async def flash(page: Page) -> str:
    return (await page.locator("#flash").inner_text()).strip()


def today() -> str:
    return datetime.now(ZoneInfo("Europe/Copenhagen")).date().isoformat()


async def test_consultant_works_a_case_and_the_job_centre_answers(stack: Stack, page: Page) -> None:
    await page.set_viewport_size({"width": 1280, "height": 900})
    inquiry = await send_inquiry(stack, "Kaffe & Omsorg – Ærø ApS")
    base = stack.routing.url

    # Not signed in: the console sends the browser to the login page.
    await log_in(page, f"{base}/sager", "ane-kjaer")
    assert page.url == f"{base}/sager"
    await page.get_by_role("heading", name="Mine sager").wait_for()
    await check_accessible(page, "mine-sager")
    await page.get_by_role("link", name=inquiry.reference).click()

    await page.get_by_role("heading", name="Kaffe & Omsorg – Ærø ApS").wait_for()
    assert await page.locator("#case-status").inner_text() == "Tildelt"
    assert "Ane Kjær" in await page.locator("#owner").inner_text()
    # The guide computes its suggestions from case-routed; they appear on the page.
    for _ in range(40):
        if await page.get_by_text("Kan sendes til virksomheden", exact=False).count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    assert await page.get_by_text("Kan sendes til virksomheden", exact=False).count() > 0
    await check_accessible(page, "sag")

    # First contact: by phone, today.
    await page.get_by_label("Hvordan").select_option("phone")
    await page.get_by_label("Dato", exact=True).fill(today())
    await page.get_by_role("button", name="Registrér første kontakt").click()
    assert await flash(page) == "Første kontakt er registreret."
    assert await page.locator("#case-status").inner_text() == "I gang"

    # A referral to the job centre, with consent to share contact details.
    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.referral-made.v1")) as made:
        await page.get_by_label("Henvis til").select_option("job_centre")
        await page.get_by_label("Formål").fill("Afklaring af løntilskud til to ledige i caféen.")
        await page.get_by_label("Ja, kontaktoplysningerne sendes med").check()
        await page.get_by_role("button", name="Send henvisning").click()
        assert await flash(page) == "Henvisningen er sendt."
        event = await made.wait_for(
            lambda e: e.data.case_id and e.data.reference == inquiry.reference
        )
    referral_id = event.data.referral_id
    assert event.data.contact.email == inquiry.contact.email

    # The job centre answers through the department API with its key.
    async with httpx.AsyncClient(base_url=base, timeout=10) as job_centre:
        answer = await job_centre.post(
            f"/api/v1/referrals/{referral_id}/answer",
            headers={"X-API-Key": "dev-key-job_centre"},
            json={
                "status": "completed",
                "outcome": {"summary": "To ansat i løntilskud.", "wage_subsidy_hires": 2},
            },
        )
        assert answer.status_code == 200, answer.text

    await page.reload()
    timeline = await page.locator("#timeline").inner_text()
    assert "Jobcentret har afsluttet henvisningen: To ansat i løntilskud." in timeline
    assert "(2 ansat med løntilskud)" in timeline
    assert "Første kontakt er registreret: telefon" in timeline
    assert "Afsluttet" in await page.locator("#referrals").inner_text()
    assert "Ane Kjær" in await page.locator("#owner").inner_text()  # still the owner
    await check_accessible(page, "sag-med-svar")


async def test_console_works_without_javascript(stack: Stack, browser: Browser) -> None:
    inquiry = await send_inquiry(stack, "Cykelværkstedet Ø")
    context = await browser.new_context(java_script_enabled=False, locale="da-DK")
    page = await context.new_page()
    try:
        await log_in(page, f"{stack.routing.url}/sager", "ane-kjaer")
        await page.get_by_role("link", name=inquiry.reference).click()
        await page.get_by_role("button", name="Luk sagen").click()
        assert await flash(page) == "Skriv sagens udfald, når du lukker den."
        await page.get_by_label("Udfald").fill("Henvenderen fik svar på telefon.")
        await page.get_by_role("button", name="Luk sagen").click()
        assert await flash(page) == (
            "Skriv en besked til virksomheden om, hvorfor sagen lukkes, eller vælg "
            "»Send ikke besked«."
        )
        await page.get_by_label("Udfald").fill("Henvenderen fik svar på telefon.")
        await page.get_by_label("Send ikke besked").check()  # they asked to close it
        await page.get_by_role("button", name="Luk sagen").click()
        assert await flash(page) == "Sagen er lukket."
        assert await page.locator("#case-status").inner_text() == "Lukket"
        await page.get_by_role("button", name="Genåbn sagen").click()
        assert await flash(page) == "Sagen er genåbnet."
    finally:
        await context.close()


async def test_team_lead_pages(stack: Stack, page: Page) -> None:
    await page.set_viewport_size({"width": 1280, "height": 900})
    await send_inquiry(stack, "Genbrugsbutikken Lyset")
    await log_in(page, f"{stack.routing.url}/teamleder/team", "teamleder")
    await page.get_by_role("heading", name="Team og arbejdsbyrde").wait_for()
    assert "Ane Kjær" in await page.locator("#workload").inner_text()
    await check_accessible(page, "team")
    await page.get_by_role("link", name="Alle åbne sager").click()
    await page.get_by_role("heading", name="Alle åbne sager").wait_for()
    await check_accessible(page, "alle-sager")
    await page.get_by_role("link", name="Problemsager").click()
    await check_accessible(page, "problemsager")
    await page.get_by_role("link", name="Eksterne udbydere").click()
    await check_accessible(page, "udbydere")
    await page.goto(f"{stack.routing.url}/teamleder/team/ane-kjaer")
    await check_accessible(page, "konsulent")
    # A consultant is turned away from the team lead's pages.
    await page.get_by_role("button", name="Log ud").click()
    await log_in(page, f"{stack.routing.url}/teamleder/team", "ane-kjaer")
    await page.get_by_text("Din rolle giver ikke adgang til denne side.").wait_for()
    await check_accessible(page)


async def test_a_consultant_finds_a_case_from_the_search_box(stack: Stack, page: Page) -> None:
    """Issue 13, point 1: the search box on my cases, the results (at desktop and phone
    width, without sideways scrolling at 390 px), then the case."""
    inquiry = await send_inquiry(stack, "Søgbar Værkstedsforening")
    base = stack.routing.url
    for width, shot in ((1280, "soeg"), (390, "soeg-390")):
        await page.set_viewport_size({"width": width, "height": 900})
        await log_in(page, f"{base}/sager", "ane-kjaer")
        await page.get_by_label("Find sag").fill("værkstedsforening")
        await page.get_by_role("button", name="Søg", exact=True).click()
        await page.get_by_role("heading", name="Find sag").wait_for()
        assert "q=v%C3%A6rkstedsforening" in page.url  # a bookmarkable GET
        await page.get_by_role("link", name=inquiry.reference).wait_for()
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow} px sideways at {width} px"
        await check_accessible(page, shot)
        await page.get_by_role("link", name=inquiry.reference).click()
        await page.get_by_role("heading", name="Søgbar Værkstedsforening").wait_for()
        await page.goto(f"{base}/sager")  # the list itself stacks too (point 8)
        await page.get_by_role("link", name=inquiry.reference).wait_for()
        assert (
            await page.evaluate(  # no table wider than the window, scrolling or not
                "Math.max(...[...document.querySelectorAll('table')]"
                ".map(t => t.getBoundingClientRect().right - window.innerWidth))"
            )
            <= 0
        )
        await page.get_by_role("button", name="Log ud").click()


async def cases_collection(stack: Stack) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI)
    return client, client[f"t_{stack.run_id}_routing"]["cases"]


async def scroll_width(page: Page) -> int:
    return int(await page.evaluate("document.scrollingElement.scrollWidth"))


async def test_recording_an_answer_writing_to_the_enterprise_and_correcting_the_contact(
    stack: Stack, page: Page
) -> None:
    """Issue 13, points 3, 5, 6 and 13: the referral form's line for the enterprise, an answer
    the job centre gave by phone recorded on its behalf, a message to the enterprise and a
    corrected e-mail, each on the timeline and published."""
    await page.set_viewport_size({"width": 1280, "height": 900})
    inquiry = await send_inquiry(stack, "Værkstedet Nordlys")
    base = stack.routing.url
    await log_in(page, f"{base}/sager", "ane-kjaer")
    await page.get_by_role("link", name=inquiry.reference).click()
    await page.get_by_role("heading", name="Værkstedet Nordlys").wait_for()

    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.referral-made.v1")) as made:
        await page.get_by_label("Henvis til").select_option("job_centre")
        await page.get_by_label("Formål").fill("Vurdering af to ledige med skånehensyn.")
        await page.get_by_label("Det får virksomheden at vide").fill(
            "Jobcentret ringer til jer om løntilskud i næste uge."
        )
        await page.get_by_label("Ja, kontaktoplysningerne sendes med").check()
        await page.get_by_role("button", name="Send henvisning").click()
        assert await flash(page) == "Henvisningen er sendt."
        event = await made.wait_for(lambda e: e.data.reference == inquiry.reference)
    assert event.data.message_to_enterprise == (
        "Jobcentret ringer til jer om løntilskud i næste uge."
    )

    # The job centre said yes on the phone: recorded on its behalf.
    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.referral-updated.v1")) as updated:
        await page.get_by_text("Registrér svar fra Jobcentret").click()  # opens the details
        await page.get_by_label("Accepteret").check()
        await page.get_by_label("Dato for svaret").fill(today())
        await check_accessible(page, "sag-registrer-svar")
        await page.get_by_role("button", name="Registrér svaret fra Jobcentret").click()
        assert await flash(page) == "Svaret er registreret."
        answer = await updated.wait_for(lambda e: e.data.referral_id == event.data.referral_id)
    assert answer.data.recorded_by == "ane-kjaer"
    assert answer.data.answered_by.value == "job_centre"
    assert answer.data.reference == inquiry.reference
    assert "Registreret af Ane Kjær på vegne af Jobcentret" in (
        await page.locator("#referrals").inner_text()
    )
    assert "på vegne af Jobcentret" in await page.locator("#timeline").inner_text()

    # A message to the enterprise.
    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.message-to-enterprise.v1")) as sent:
        await page.get_by_label("Emne").fill("Møde om løntilskud")
        await page.get_by_label("Besked", exact=True).fill("Hej\nKan I tirsdag kl. 10?")
        await page.get_by_role("button", name="Send beskeden").click()
        assert await flash(page) == "Beskeden er sendt til virksomheden."
        message = await sent.wait_for(lambda e: e.data.reference == inquiry.reference)
    assert message.data.contact.email == inquiry.contact.email
    assert "»Møde om løntilskud«" in await page.locator("#timeline").inner_text()
    await check_accessible(page, "sag-skriv")

    # The e-mail was wrong: corrected, the timeline says which field.
    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.case-contact-changed.v1")) as changed:
        await page.get_by_text("Ret kontaktoplysninger").click()
        await page.get_by_label("E-mail", exact=True).fill("rettet@nordlys.example")
        await check_accessible(page, "sag-ret-kontakt")
        await page.get_by_role("button", name="Gem kontaktoplysninger").click()
        assert await flash(page) == "Kontaktoplysningerne er rettet (e-mail)."
        contact = await changed.wait_for(lambda e: e.data.reference == inquiry.reference)
    assert contact.data.contact.email == "rettet@nordlys.example"
    assert "Kontaktoplysningerne er rettet af" in await page.locator("#timeline").inner_text()
    await check_accessible(page)


async def test_an_overdue_referral_and_the_case_page_at_phone_width(
    stack: Stack, page: Page
) -> None:
    """Issue 13, points 3, 8 and 13: a referral with no answer by its deadline shows as
    "Forsinket svar" on the case page and in the lists, the job reminds the consultant
    (referral-overdue), and the case page and lists fit 390 px without sideways scrolling."""
    inquiry = await send_inquiry(stack, "Genbrugsværkstedet Bæredygtig Fremtid ApS")
    base = stack.routing.url
    await page.set_viewport_size({"width": 1280, "height": 900})
    await log_in(page, f"{base}/sager", "ane-kjaer")
    await page.get_by_role("link", name=inquiry.reference).click()
    await page.get_by_label("Henvis til").select_option("job_centre")
    await page.get_by_label("Formål").fill("Afklaring af virksomhedspraktik.")
    await page.get_by_label("Svar ønskes senest").fill(today())
    await page.get_by_label("Nej, henvisningen sendes uden kontaktoplysninger").check()
    await page.get_by_role("button", name="Send henvisning").click()
    assert await flash(page) == "Henvisningen er sendt."
    case_url = page.url.split("#")[0]

    # Its deadline passes (moved back, as days passing would: the watch moves with it).
    yesterday = (datetime.now(ZoneInfo("Europe/Copenhagen")).date() - timedelta(days=1)).isoformat()
    client, cases = await cases_collection(stack)
    try:
        async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.referral-overdue.v1")) as late:
            await cases.update_one(
                {"inquiry_ids": inquiry.inquiry_id},
                {"$set": {"referrals.0.response_due": yesterday, "referral_watch": [yesterday]}},
            )
            overdue = await late.wait_for(lambda e: e.data.reference == inquiry.reference)
    finally:
        await client.close()
    assert overdue.data.consultant.id == "ane-kjaer"
    assert overdue.data.target_name == "Jobcentret"

    for width, suffix in ((1280, ""), (390, "-390")):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.goto(case_url)
        await page.locator("#case-late-answer").wait_for()
        assert "Forsinket svar" in await page.locator("#referrals").inner_text()
        assert "Forsinket svar: Jobcentret" in await page.locator("#timeline").inner_text()
        assert await scroll_width(page) <= width, f"case page wider than {width} px"
        await check_accessible(page, f"sag-forsinket-svar{suffix}")
        await page.goto(f"{base}/sager/soeg?forsinket=1")
        await page.get_by_role("link", name=inquiry.reference).wait_for()
        assert await scroll_width(page) <= width, f"search wider than {width} px"
        await check_accessible(page, f"soeg-forsinket-svar{suffix}")
        await page.goto(f"{base}/sager")
        await page.get_by_role("link", name=inquiry.reference).wait_for()
        assert await scroll_width(page) <= width, f"my cases wider than {width} px"
        await check_accessible(page, f"mine-sager-forsinket-svar{suffix}")


async def test_the_team_leads_lists_at_phone_width(stack: Stack, page: Page) -> None:
    """Issue 13, point 8: the team lead's lists (all open cases, problems, the team's
    workload) stack at 390 px instead of scrolling sideways."""
    await send_inquiry(stack, "Smalle Skærmes Forening")
    await page.set_viewport_size({"width": 390, "height": 900})
    await log_in(page, f"{stack.routing.url}/teamleder/sager", "teamleder")
    for path, heading, shot in (
        ("/teamleder/sager", "Alle åbne sager", "alle-sager-390"),
        ("/teamleder/problemer", "Problemsager", "problemsager-390"),
        ("/teamleder/team", "Team og arbejdsbyrde", "team-390"),
    ):
        await page.goto(f"{stack.routing.url}{path}")
        await page.get_by_role("heading", name=heading, exact=True).wait_for()
        assert await scroll_width(page) <= 390, f"{path} wider than 390 px"
        await check_accessible(page, shot)


async def test_social_value_and_the_rsv_checklist_on_the_case(
    stack: Stack, page: Page, browser: Browser
) -> None:
    """Issue 14, points 2 and 4: the consultant records people employed and an agreement
    won, and goes through the RSV criteria with the enterprise; each published, on the
    timeline, accessible, and at 390 px without sideways scrolling; the same forms work
    without JavaScript. Screenshots of the two sections: console-outcomes, console-rsv."""
    inquiry = await send_inquiry(stack, "Café Mosaik ApS")
    base = stack.routing.url
    await page.set_viewport_size({"width": 1280, "height": 900})
    await log_in(page, f"{base}/sager", "ane-kjaer")
    await page.get_by_role("link", name=inquiry.reference).click()
    await page.get_by_role("heading", name="Social værdi").wait_for()
    case_url = page.url.split("#")[0]

    outcomes = page.locator("#social-vaerdi")
    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.case-outcome-recorded.v1")) as log:
        await outcomes.get_by_label("Ansat med løntilskud").fill("2")
        await outcomes.get_by_label("Ansat på ordinære vilkår").fill("1")
        await outcomes.get_by_label("Leverandøraftaler vundet").fill("1")
        await outcomes.get_by_label("Dato, den sociale værdi hører til").fill(today())
        await page.get_by_role("button", name="Registrér social værdi").click()
        assert await flash(page) == "Den sociale værdi er registreret."
        recorded = await log.wait_for(lambda e: e.data.reference == inquiry.reference)
    assert recorded.data.wage_subsidy_hires == 2
    assert recorded.data.ordinary_hires == 1
    assert recorded.data.supplier_agreements == 1
    assert recorded.data.consultant_id == "ane-kjaer"
    assert "3 ansat gennem virksomheden" in await page.locator("#outcome-totals").inner_text()
    assert "har registreret social værdi" in await page.locator("#timeline").inner_text()

    rsv = page.locator("#rsv")
    async with EventLog(KAFKA_BOOTSTRAP, stack.topic("indgang.rsv-readiness-changed.v1")) as log:
        for group, status in (
            ("1. Socialt formål", "Opfyldt"),
            ("2. Væsentlig erhvervsvirksomhed", "Opfyldt"),
            ("3. Uafhængig af det offentlige", "Opfyldt"),
            ("4. Inddragende og ansvarlig i sit virke", "Ikke endnu"),
            ("5. Social håndtering af overskud", "Ved ikke"),
        ):
            await rsv.get_by_role("group", name=group).get_by_label(status, exact=True).check()
        await rsv.get_by_label("Note til kriterium 4").fill(
            "Medarbejderne skal have en plads i bestyrelsen; forslag til vedtægter på vej."
        )
        await page.get_by_role("button", name="Gem RSV-tjeklisten").click()
        assert await flash(page) == "RSV-tjeklisten er gemt."
        changed = await log.wait_for(lambda e: e.data.reference == inquiry.reference)
    assert changed.data.criteria["social_purpose"].value == "met"
    assert changed.data.criteria["inclusive_governance"].value == "not_yet"
    assert not changed.data.ready
    assert "3 af 5 kriterier opfyldt" in await page.locator("#rsv-summary").inner_text()
    assert "har ændret RSV-tjeklisten" in await page.locator("#timeline").inner_text()

    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.goto(case_url)
        await page.get_by_text("Ret eller træk registreringen").click()  # opens the details
        assert await scroll_width(page) <= width, f"case page wider than {width} px"
        await check_accessible(page)
        if SCREENSHOTS and width == 1280:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            await outcomes.screenshot(path=f"{SCREENSHOTS}/console-outcomes.png")
            await rsv.screenshot(path=f"{SCREENSHOTS}/console-rsv.png")

    # Without JavaScript: a correction and the registration, as plain form posts.
    context = await browser.new_context(java_script_enabled=False, locale="da-DK")
    plain = await context.new_page()
    try:
        await log_in(plain, case_url, "ane-kjaer")
        await plain.get_by_role("heading", name="Social værdi").wait_for()
        correction = plain.locator("#ret-1")
        await correction.locator("summary").click()  # details open without JavaScript too
        await correction.get_by_label("Ansat på ordinære vilkår").fill("2")
        await correction.get_by_role("button", name="Gem rettelsen").click()
        assert await flash(plain) == "Registreringen er rettet."
        section = plain.locator("#rsv")
        await section.get_by_role("group", name="4. Inddragende").get_by_label("Opfyldt").check()
        await section.get_by_role("group", name="5. Social").get_by_label("Opfyldt").check()
        await section.get_by_label("Virksomheden er registreret som RSV").check()
        await section.get_by_label("Dato for registreringen").fill(today())
        await plain.get_by_role("button", name="Gem RSV-tjeklisten").click()
        assert await flash(plain) == "RSV-tjeklisten er gemt."
        assert "Registreret som RSV" in await plain.locator("#rsv-summary").inner_text()
    finally:
        await context.close()
