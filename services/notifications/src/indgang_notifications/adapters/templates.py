"""Message templates: Jinja2 files a municipality can edit without code.

A template renders to a first line `Subject: ...`, a blank line, then the body.
`<kind>.<language>.txt` is the plain text; the HTML part is generated from it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound


class TemplateMissing(LookupError):
    pass


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class MessageTemplates:
    def __init__(self, directory: Path, defaults: dict[str, Any]) -> None:
        # Plain text templates are not HTML: no autoescape; HTML is escaped below.
        self._env = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )
        self._defaults = defaults

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        try:
            template = self._env.get_template(f"{kind}.{language}.txt")
        except TemplateNotFound as exc:
            raise TemplateMissing(f"no template {kind!r} in language {language!r}") from exc
        rendered = template.render({**self._defaults, **context})
        head, _, body = rendered.partition("\n\n")
        if not head.startswith("Subject: "):
            raise ValueError(f"template {kind}.{language} must start with 'Subject: '")
        body = body.strip() + "\n"
        paragraphs = "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in body.split("\n\n")
        )
        page = f'<!doctype html>\n<html lang="{language}"><body>\n{paragraphs}</body></html>\n'
        return Rendered(subject=head.removeprefix("Subject: ").strip(), text=body, html=page)
