"""Issue 12, finding 10, in a real browser: every service's pages work under the
Content-Security-Policy (no inline script or style) — Chromium reports no violation
while it renders them, runs the design system's script and posts the sign-in form —
and the headers are on what the browser got."""

from __future__ import annotations

from playwright.async_api import ConsoleMessage, Page

from pytest_indgang import System

PUBLIC = [("intake", "/"), ("intake", "/privatliv"), ("guide", "/hjaelp")]
STAFF = [("routing", "ane-kjaer", "/"), ("guide", "redaktoer", "/guide"),
         ("notifications", "teamleder", "/")]  # fmt: skip


def violations(page: Page) -> list[str]:
    """Chromium's console messages about the policy, collected while the page lives."""
    found: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", note)
    return found


async def test_pages_render_under_the_policy(system: System, page: Page) -> None:
    refused = violations(page)
    for service, path in PUBLIC:
        response = await page.goto(system.url(service) + path)
        assert response is not None
        assert response.status == 200, (service, path)
        headers = await response.all_headers()
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        # The design system's stylesheet applied: the policy let it in.
        font = await page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "IBM Plex Sans" in font or "Helvetica" in font or "Arial" in font, font
    for service, user, path in STAFF:
        await page.goto(f"{system.url(service)}/auth/login?next={path}")
        await page.fill("#username", user)
        await page.fill("#password", "indgang-dev")
        await page.click("button[type=submit]")
        await page.wait_for_load_state("load")
        assert "/auth/login" not in page.url, (service, page.url)
    assert refused == []


async def test_an_injected_inline_script_does_not_run(system: System, page: Page) -> None:
    refused = violations(page)
    await page.goto(system.url("intake") + "/")
    # What an injection into a served page would amount to: an inline script element.
    ran = await page.evaluate(
        """() => { window.ran = false; const s = document.createElement('script');
        s.textContent = 'window.ran = true'; document.body.appendChild(s); return window.ran; }"""
    )
    assert ran is False
    assert refused  # and Chromium says why
