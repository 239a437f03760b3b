"""The web wiring every service uses: dependencies read from `app.state`, and a service's
pages installed once (its templates over the layout, every page's values, the language,
sign-in, the form token), shown with `render`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import PlainTextResponse, Response

from indgang_runtime.pages import Language, Translations
from indgang_runtime.sessions import SessionStore
from indgang_runtime.settings import ServiceSettings
from indgang_runtime.web import (
    Pages,
    csrf_ok,
    from_state,
    install_pages,
    pages_of,
    render,
)

from fake_store import FakeDatabase

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ServiceSettings(
    service_name="t",
    mongodb_database="t",
    http_port=1,
    municipality_name="Testby Kommune",
    accessibility_statement_url="https://example.test/was",
    users_file=ROOT / "deploy/dev/users.toml",
)
TRANSLATIONS = Translations({"page.title": {"da": "Forside", "en": "Front page"}})


class Thing:
    def __init__(self, name: str) -> None:
        self.name = name


read_thing = from_state("thing", Thing)
ThingDep = Annotated[Thing, Depends(read_thing)]


async def test_from_state_is_a_coroutine_returning_what_create_app_put_on_app_state() -> None:
    assert inspect.iscoroutinefunction(read_thing)  # no trip to a worker thread
    assert read_thing.__name__ == "thing_from_state"

    app = FastAPI()
    app.state.thing = Thing("the one")

    @app.get("/", response_class=PlainTextResponse)
    async def page(thing: ThingDep) -> str:
        return thing.name

    async with client(app) as c:
        assert (await c.get("/")).text == "the one"


def templates_dir(tmp_path: Path) -> Path:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "page.html").write_text(
        '{% extends "indgang/base.html" %}{% block content %}'
        "<p id=values>{{ t('page.title') }}|{{ lang }}|{{ user.id if user else 'nobody' }}"
        "|{{ extra }}|{{ own }}|{{ when | shout }}|{{ csrf }}</p>{% endblock %}"
    )
    return tmp_path


def service(tmp_path: Path, **options: Any) -> FastAPI:
    app = FastAPI()

    def extra(request: Request, lang: Language) -> dict[str, Any]:
        return {"extra": f"extra-{lang}", "own": "from extra"}

    install_pages(
        app,
        SETTINGS,
        templates_dir(tmp_path),
        TRANSLATIONS,
        extra=extra,
        filters={"shout": lambda value: str(value).upper()},
        sessions=SessionStore(FakeDatabase()),
        **options,
    )

    @app.get("/page")
    async def page(request: Request) -> Response:
        return render(request, "svc/page.html", {"own": "the page's", "when": "now"})

    @app.get("/missing")
    async def missing(request: Request) -> Response:
        return render(request, "svc/page.html", {"when": "gone"}, 404)

    @app.post("/form", response_class=PlainTextResponse)
    async def form(request: Request, csrf: Annotated[str, Form()] = "") -> str:
        return "ok" if csrf_ok(request, csrf) else "refused"

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc.test")


def shown(html: str) -> str:
    return html.split("<p id=values>")[1].split("</p>")[0]


async def test_a_page_has_the_layout_the_language_and_the_services_values(
    tmp_path: Path,
) -> None:
    app = service(tmp_path)
    assert isinstance(app.state.pages, Pages)
    async with client(app) as c:
        response = await c.get("/page")
        assert response.status_code == 200
        # The page's own values win over the service's extra ones; filters are installed.
        assert shown(response.text) == "Forside|da|nobody|extra-da|the page&#39;s|NOW|"
        assert "Testby Kommune" in response.text  # the layout's, from the base settings
        assert 'href="https://example.test/was"' in response.text
        assert 'lang="da"' in response.text
        assert "lang" not in response.cookies  # nothing chosen, nothing remembered

        english = await c.get("/page?lang=en")
        assert shown(english.text).startswith("Front page|en|nobody|extra-en|")
        assert english.cookies["lang"] == "en"  # remembered for the next pages
        assert shown((await c.get("/page")).text).startswith("Front page|en|")

        missing = await c.get("/missing")
        assert missing.status_code == 404
        assert "|GONE|" in shown(missing.text)


async def test_a_danish_only_service_ignores_and_keeps_no_language_choice(
    tmp_path: Path,
) -> None:
    app = service(tmp_path, choose_language=False)
    async with client(app) as c:
        c.cookies.set("lang", "en")
        response = await c.get("/page?lang=en")
        assert shown(response.text).startswith("Forside|da|nobody|extra-da|")
        assert "set-cookie" not in response.headers


async def test_staff_pages_get_the_sign_in_the_user_and_a_form_token(tmp_path: Path) -> None:
    app = service(tmp_path, staff=True, csrf=True)
    async with client(app) as c:
        login = await c.get("/auth/login")
        assert login.status_code == 200
        assert "Testby Kommune" in login.text  # the sign-in page is in the same layout

        signed_in = await c.post(
            "/auth/login", data={"username": "teamleder", "password": "indgang-dev"}
        )
        assert signed_in.status_code == 303

        values = shown((await c.get("/page")).text).split("|")
        assert values[2] == "teamleder"
        token = values[-1]
        assert len(token) >= 24
        assert shown((await c.get("/page")).text).split("|")[-1] == token  # one per session

        assert (await c.post("/form", data={"csrf": token})).text == "ok"
        # A wrong or missing token never reaches the route: the CSRF middleware refuses it.
        assert (await c.post("/form", data={"csrf": token + "x"})).status_code == 403
        assert (await c.post("/form", data={})).status_code == 403


async def test_without_staff_pages_there_is_no_sign_in(tmp_path: Path) -> None:
    app = service(tmp_path)
    async with client(app) as c:
        assert (await c.get("/auth/login")).status_code == 404
        assert (await c.get("/assets/indgang/indgang.css")).status_code == 200
        assert (await c.get("/assets/dkfds/css/dkfds.min.css")).status_code == 200


@pytest.mark.parametrize("staff", [False, True])
def test_the_installer_returns_what_it_put_on_app_state(tmp_path: Path, staff: bool) -> None:
    app = FastAPI()
    pages = install_pages(
        app,
        SETTINGS,
        templates_dir(tmp_path),
        TRANSLATIONS,
        staff=staff,
        sessions=SessionStore(FakeDatabase()),
    )
    assert app.state.pages is pages
    request = Request({"type": "http", "app": app, "query_string": b"lang=en", "headers": []})
    assert pages_of(request) is pages
    gettext: Callable[[str], str] = pages.gettext(request)
    assert gettext("page.title") == "Front page"
    assert pages.layout(request) == {
        "municipality_name": "Testby Kommune",
        "accessibility_statement_url": "https://example.test/was",
    }
    assert pages.templates.env.globals["municipality_name"] == "Testby Kommune"
