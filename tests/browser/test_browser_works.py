"""The browser harness itself: Debian's Chromium renders a served page and axe runs in it."""

from __future__ import annotations

from playwright.async_api import Page

from pytest_indgang import System, axe_violations


async def test_chromium_renders_openapi_page_and_axe_runs(system: System, page: Page) -> None:
    response = await page.goto(f"{system.url('intake')}/health/live")
    assert response is not None
    assert response.status == 200
    assert "live" in (await page.content())
    # A page of its own: the service's Content-Security-Policy (no inline style) would
    # stay on the document and keep the low-contrast style from applying.
    await page.goto("about:blank")
    await page.set_content(
        '<html lang="da"><head><title>t</title></head><body><main><h1>Hej</h1>'
        '<p style="color:#888;background:#999">svag kontrast</p></main></body></html>'
    )
    violations = await axe_violations(page)
    assert any(v["id"] == "color-contrast" for v in violations)
