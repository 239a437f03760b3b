"""End to end: `make demo-history`'s script against intake, routing, notifications and
guide as real processes, with reporting as a real process beside them; the report
pages then show the script's history (the JSON's totals are what the script did), and
in Chromium every report page passes axe-core (WCAG 2.1 A/AA, serious and critical) at
1280 and 390 px without sideways scrolling, and works without JavaScript.

With INDGANG_SCREENSHOTS=<directory> set, the pages are saved there as reports-*.png
(docs/reports-*.png were made so)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page
from reporting_kit import REPORTS_KEY

from harness import KAFKA_BOOTSTRAP, ROOT, ServiceProcess, eventually, service_env
from pytest_indgang import SmtpServer, System, axe_violations, start_system

SCREENSHOTS = os.environ.get("INDGANG_SCREENSHOTS")
SCRIPT = ROOT / "services" / "reporting" / "scripts" / "demo_history.py"
INQUIRIES = 14
SLUGS = (
    "henvendelser",
    "foerste-kontakt",
    "henvisninger",
    "lukkede-sager",
    "social-vaerdi",
    "rsv-parathed",
)


@dataclass
class Demo:
    reporting: ServiceProcess
    done: dict[str, int]
    output: str  # what the script said (refusals included)


@pytest.fixture(scope="module")
async def demo(infra: None, run_id: str, smtp: SmtpServer) -> AsyncIterator[Demo]:
    # A stack of its own (its own topics and databases): the session's shared services
    # carry other tests' inquiries, which reporting would count too.
    async with start_system(f"{run_id}demo", smtp) as system, _run_demo(system) as demo:
        yield demo


@contextlib.asynccontextmanager
async def _run_demo(system: System) -> AsyncIterator[Demo]:
    env = service_env(system.run_id, "reporting", KAFKA_BOOTSTRAP)
    reporting = ServiceProcess("reporting", {**env, "REPORTS_API_KEY": REPORTS_KEY})
    reporting.start()
    try:
        await reporting.wait_ready()
        run = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable, str(SCRIPT),
                "--intake", system.url("intake"),
                "--routing", system.url("routing"),
                "--reporting", reporting.url,
                "--inquiries", str(INQUIRIES),
            ],
            capture_output=True, text=True, timeout=600, cwd=ROOT,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        found = re.search(
            r"Done: (\d+) inquiries, (\d+) first contacts, (\d+) referrals, (\d+) answers, "
            r"(\d+) closings, (\d+) social-value recordings, (\d+) RSV checklists",
            run.stdout,
        )
        assert found is not None, run.stdout
        names = ("inquiries", "first_contact", "referrals", "answers", "closed", "outcomes", "rsv")
        done = dict(zip(names, map(int, found.groups()), strict=True))
        yield Demo(reporting, done, run.stdout)
    finally:
        reporting.stop()


async def _report(demo: Demo, name: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=demo.reporting.url, timeout=10) as client:
        response = await client.get(
            f"/api/v1/reports/{name}", headers={"X-Reports-Key": REPORTS_KEY}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def _counted(demo: Demo) -> dict[str, int]:
    """The report figures that should equal what the script did."""
    inquiries = await _report(demo, "inquiries")
    first = await _report(demo, "first-contact")
    referrals = await _report(demo, "referrals")
    closed = await _report(demo, "closed")
    social = await _report(demo, "social-value")
    rsv = await _report(demo, "rsv-readiness")
    return {
        "inquiries": inquiries["total"]["total"],
        "first_contact": first["total"]["contacted"],
        "referrals": referrals["total"]["made"],
        "closed": closed["total"]["closed"],
        "outcomes": social["recorded_total"]["recordings"],
        "rsv": rsv["total"]["cases"],
    }


async def test_the_reports_count_what_the_demo_did(demo: Demo) -> None:
    expected = {name: demo.done[name] for name in await _counted(demo)}
    seen: dict[str, int] = {}

    async def counted() -> bool:
        seen.update(await _counted(demo))
        return seen == expected

    try:
        await eventually(counted, timeout=90)
    except AssertionError as exc:
        # Which figure is off, and what the script was told, say more than a timeout.
        raise AssertionError(
            f"{exc}: the reports show {seen}, the script did {expected}\n"
            f"script:\n{demo.output}\nreporting:\n{demo.reporting.log_tail()}"
        ) from exc
    inquiries = await _report(demo, "inquiries")
    assert inquiries["total"]["follow_ups"] >= 0
    assert sum(c["count"] for c in inquiries["by_door"]) == INQUIRIES
    # The demo records social value on some cases and RSV checklists on some.
    assert demo.done["outcomes"] > 0
    assert demo.done["rsv"] > 0


async def _log_in(page: Page, url: str, user: str) -> None:
    await page.goto(f"{url}/rapporter")
    await page.get_by_label("Brugernavn").fill(user)
    await page.get_by_label("Adgangskode").fill("indgang-dev")
    await page.get_by_role("button", name="Log ind").click()
    await page.wait_for_url(re.compile(r"/rapporter/henvendelser"))


async def _check(page: Page, shot: str) -> None:
    violations = [f"{v['id']}: {v['help']}" for v in await axe_violations(page)]
    assert violations == [], violations
    too_wide = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert too_wide <= 0, f"{shot}: {too_wide} px wider than the window"
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/reports-{shot}.png", full_page=True)


async def test_every_report_page_is_accessible_at_desktop_and_phone_width(
    demo: Demo, browser: Browser
) -> None:
    await test_the_reports_count_what_the_demo_did(demo)  # the history is in
    for width, suffix in ((1280, ""), (390, "-phone")):
        context = await browser.new_context(
            locale="da-DK", viewport={"width": width, "height": 900}
        )
        page = await context.new_page()
        try:
            await _log_in(page, demo.reporting.url, "ledelse")
            for slug in SLUGS:
                await page.goto(f"{demo.reporting.url}/rapporter/{slug}")
                assert await page.locator("svg[role=img] title").count() >= 1 or slug in (
                    "foerste-kontakt",
                )
                await _check(page, f"{slug}{suffix}")
            await page.goto(f"{demo.reporting.url}/rapporter/henvendelser?lang=en")
            assert "Inquiries per period" in await page.content()
            await _check(page, f"inquiries-en{suffix}")
        finally:
            await context.close()


async def test_the_period_form_works_without_javascript(demo: Demo, browser: Browser) -> None:
    context = await browser.new_context(java_script_enabled=False, locale="da-DK")
    page = await context.new_page()
    try:
        await _log_in(page, demo.reporting.url, "teamleder")
        await page.select_option("#per", "week")
        await page.get_by_role("button", name="Vis").click()
        await page.wait_for_url(re.compile(r"per=week"))
        assert "uge " in await page.locator("#table-inquiries-perioder").inner_text()
        csv_link = page.get_by_role("link", name=re.compile("Hent som CSV.*Henvendelser pr"))
        assert "per=week" in (await csv_link.get_attribute("href") or "")
    finally:
        await context.close()
