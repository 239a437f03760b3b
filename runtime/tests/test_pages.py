"""The shared page pieces: the language choice, translations with their fallbacks, the
template loader (a service's templates over the shared layout, always escaped) and where
the design system's assets are found."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from indgang_runtime.pages import (
    BASE_TEXTS,
    Translations,
    dkfds_dir,
    language,
    page_templates,
    remember_language,
)


def language_app() -> FastAPI:
    app = FastAPI()

    @app.get("/", response_class=PlainTextResponse)
    async def page(request: Request) -> PlainTextResponse:
        response = PlainTextResponse(language(request))
        return remember_language(response, request)  # type: ignore[no-any-return]

    return app


async def get(path: str, cookies: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=language_app())
    async with httpx.AsyncClient(
        transport=transport, base_url="http://pages.test", cookies=cookies
    ) as client:
        return await client.get(path)


@pytest.mark.parametrize(
    ("path", "cookie", "expected"),
    [
        ("/", None, "da"),  # Danish first
        ("/?lang=en", None, "en"),
        ("/", "en", "en"),  # remembered
        ("/?lang=da", "en", "da"),  # the explicit choice beats the cookie
        ("/?lang=de", None, "da"),  # only the languages there are
        ("/?lang=de", "en", "en"),
        ("/", "fr", "da"),
    ],
)
async def test_the_page_language(path: str, cookie: str | None, expected: str) -> None:
    response = await get(path, {"lang": cookie} if cookie else None)
    assert response.text == expected


async def test_only_an_explicit_valid_choice_is_remembered() -> None:
    chosen = await get("/?lang=en")
    assert chosen.cookies.get("lang") == "en"
    assert "samesite=lax" in chosen.headers["set-cookie"].lower()
    assert "lang" not in (await get("/")).cookies
    assert "lang" not in (await get("/?lang=xx")).cookies
    assert "lang" not in (await get("/", {"lang": "en"})).cookies  # nothing new to keep


def test_translations_fall_back_to_danish_then_to_the_key() -> None:
    texts = Translations(
        {
            "greeting": {"da": "Goddag", "en": "Good day"},
            "only.danish": {"da": "Kun dansk"},
            "site.skip": {"da": "Spring over", "en": "Skip"},  # a service may reword the layout
        }
    )
    da, en = texts.gettext("da"), texts.gettext("en")
    assert (da("greeting"), en("greeting")) == ("Goddag", "Good day")
    assert en("only.danish") == "Kun dansk"
    assert en("no.such.key") == "no.such.key"
    assert en("site.skip") == "Skip"
    assert en("auth.logout") == BASE_TEXTS["auth.logout"]["en"]  # the shared texts are there


def test_every_shared_text_is_in_danish_and_english() -> None:
    assert all(set(entry) == {"da", "en"} and all(entry.values()) for entry in BASE_TEXTS.values())


def test_a_services_templates_extend_the_shared_layout_and_escape_what_users_wrote(
    tmp_path: Path,
) -> None:
    (tmp_path / "hello.html").write_text(
        '{% extends "indgang/base.html" %}{% block content %}<p>{{ text }}</p>{% endblock %}'
    )
    templates = page_templates(tmp_path, municipality_name="Testkommune")
    html = templates.env.get_template("hello.html").render(
        lang="en", t=Translations({}).gettext("en"), text="<script>alert(1)</script>"
    )
    assert '<html lang="en">' in html
    assert "Testkommune" in html  # a global every page gets
    assert "Skip to content" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_a_service_template_of_the_same_name_wins(tmp_path: Path) -> None:
    (tmp_path / "indgang").mkdir()
    (tmp_path / "indgang" / "login.html").write_text("the service's own login page")
    templates = page_templates(tmp_path)
    assert templates.env.get_template("indgang/login.html").render() == (
        "the service's own login page"
    )


def test_the_design_system_is_found_where_npm_put_it_or_where_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DKFDS_DIR", raising=False)
    found = dkfds_dir()
    assert found.parts[-3:] == ("node_modules", "dkfds", "dist")
    assert (found / "css").is_dir()
    monkeypatch.setenv("DKFDS_DIR", str(tmp_path))
    assert dkfds_dir() == tmp_path


async def test_a_page_rendered_through_the_templates_is_html(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<h1>{{ title }}</h1>")
    templates = page_templates(tmp_path)
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "page.html", {"title": "Sag & status"})

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pages.test") as client:
        response = await client.get("/")
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<h1>Sag &amp; status</h1>"
