"""A service's web layer, wired one way: dependencies that read `app.state`, and its pages.

`create_app` builds the parts and puts them on `app.state`; the module-level
routers ask for them with `from_state` dependencies (coroutines, so reading
`app.state` takes no trip to a worker thread). `install_pages` sets up a
service's server-rendered pages once — templates over the shared layout, the
translations, what every page shows, the assets and, for services with staff
pages, the sign-in — and `render` shows a page with all of that.

Staff pages carry the session's form token (`csrf`) for a signed-in user: every
form that changes something puts it in a hidden field `csrf`, which the CSRF
middleware installed with the sign-in checks (`indgang_runtime.csrf`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from indgang_runtime.auth import current_user, install_auth
from indgang_runtime.pages import (
    Language,
    Translations,
    language,
    mount_assets,
    page_templates,
    remember_language,
)
from indgang_runtime.sessions import SessionStore
from indgang_runtime.settings import ServiceSettings

T = TypeVar("T")

# What a service adds to every page: its own values for the request in its language.
ExtraValues = Callable[[Request, Language], Mapping[str, Any]]


def from_state(name: str, kind: type[T]) -> Callable[[Request], Coroutine[Any, Any, T]]:
    """A dependency returning `app.state.<name>`, which `create_app` set (a `kind`)."""

    async def read(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    read.__name__ = read.__qualname__ = f"{name}_from_state"
    read.__doc__ = f"`app.state.{name}` ({kind.__name__})."
    return read


def csrf_token(request: Request) -> str:
    """The session's form token (made on first use); a form sends it back as `csrf`."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def csrf_ok(request: Request, sent: str) -> bool:
    """Whether a form sent the session's token back (compared in constant time)."""
    expected = request.session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(sent.encode(), str(expected).encode())


@dataclass(frozen=True)
class Pages:
    """A service's pages (`app.state.pages`): its templates, texts and what every page shows."""

    templates: Jinja2Templates
    translations: Translations
    settings: ServiceSettings
    extra: ExtraValues | None = None
    choose_language: bool = True  # `?lang=` and the cookie; else Danish only
    staff: bool = False  # the signed-in user (`user`) and their form token on every page
    csrf: bool = False  # the session's form token (`csrf`) on every page, even signed out

    def language(self, request: Request) -> Language:
        return language(request) if self.choose_language else "da"

    def gettext(self, request: Request) -> Callable[[str], str]:
        """The page text function in the request's language."""
        return self.translations.gettext(self.language(request))

    def layout(self, request: Request) -> dict[str, Any]:
        """What the shared layout shows (the sign-in page gets it too)."""
        return {
            "municipality_name": self.settings.municipality_name,
            "accessibility_statement_url": self.settings.accessibility_statement_url,
        }

    def values(self, request: Request) -> dict[str, Any]:
        """Every page's values: the layout's, language, texts, user, form token, the service's."""
        lang = self.language(request)
        values: dict[str, Any] = {
            **self.layout(request),
            "lang": lang,
            "t": self.translations.gettext(lang),
        }
        user = current_user(request) if self.staff else None
        if self.staff:
            values["user"] = user
        if self.csrf or user is not None:
            values["csrf"] = csrf_token(request)
        if self.extra is not None:
            values.update(self.extra(request, lang))
        return values

    def response(
        self, request: Request, template: str, values: Mapping[str, Any], status_code: int = 200
    ) -> Response:
        """The page, without remembering a language choice (see `render`)."""
        return self.templates.TemplateResponse(
            request, template, {**self.values(request), **values}, status_code=status_code
        )


def pages_of(request: Request) -> Pages:
    """The pages `install_pages` put on `app.state`."""
    pages: Pages = request.app.state.pages
    return pages


def render(
    request: Request, template: str, values: Mapping[str, Any], status_code: int = 200
) -> Response:
    """`template` in the shared layout with every page's values and `values`; keeps `?lang=`."""
    pages = pages_of(request)
    response = pages.response(request, template, values, status_code)
    if pages.choose_language:
        remember_language(response, request)
    return response


def install_pages(
    app: FastAPI,
    settings: ServiceSettings,
    templates_dir: Path,
    translations: Translations,
    *,
    extra: ExtraValues | None = None,
    filters: Mapping[str, Callable[..., Any]] | None = None,
    staff: bool = False,
    csrf: bool = False,
    choose_language: bool = True,
    sessions: SessionStore | None = None,
) -> Pages:
    """The service's pages: templates (`templates_dir` over the shared layout), the assets,
    the staff sign-in if `staff` (sessions in `sessions`, by default the service's
    store), all as `app.state.pages`."""
    templates = page_templates(templates_dir, municipality_name=settings.municipality_name)
    templates.env.filters.update(filters or {})
    pages = Pages(
        templates,
        translations,
        settings,
        extra=extra,
        choose_language=choose_language,
        staff=staff,
        csrf=csrf,
    )
    app.state.pages = pages
    mount_assets(app)
    if staff:
        install_auth(app, settings, templates, translations, pages.layout, sessions=sessions)
    return pages
