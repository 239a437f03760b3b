"""Message templates: Jinja2 files a municipality can edit without code.

`<kind>.<language>.txt` renders to a first line `Subject: ...`, a blank line,
then the plain-text body. The HTML part is generated from the text (paragraphs,
links), unless a `<kind>.<language>.html` exists: then that is rendered with
autoescaping and the same context.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from indgang_notifications.domain.wording import day, label, sentence_start
from indgang_runtime.phone import danish_phone


class TemplateMissing(LookupError):
    pass


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


_URL = re.compile(r"(https?://[^\s<>\"]+)")


class MessageTemplates:
    def __init__(self, directory: Path, defaults: dict[str, Any]) -> None:
        self.directory = directory
        # Plain text is not HTML: no autoescape there; the generated HTML is escaped below
        # and hand-written .html templates are autoescaped.
        self._text = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            keep_trailing_newline=True,
            # Read once and kept, like the departments and subscriptions files: a running
            # service does not look at the files again for every mail (a changed template
            # takes effect at the next start).
            auto_reload=False,
        )
        # Kinds without a hand-written .html (the HTML is made from the text): remembered,
        # so each mail does not search for the file and raise TemplateNotFound again.
        self._no_html: set[str] = set()
        self._text.filters["label"] = label
        self._text.filters["day"] = day
        self._text.filters["phone"] = danish_phone
        self._text.filters["sentence_start"] = sentence_start
        self._defaults = defaults

    def kinds(self) -> dict[str, list[str]]:
        """Template kind → languages it exists in."""
        found: dict[str, list[str]] = {}
        for path in sorted(self.directory.glob("*.*.txt")):
            kind, language, _ = path.name.split(".")
            found.setdefault(kind, []).append(language)
        return found

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        try:
            template = self._text.get_template(f"{kind}.{language}.txt")
        except TemplateNotFound as exc:
            raise TemplateMissing(f"no template {kind!r} in language {language!r}") from exc
        values = {**self._defaults, **context, "lang": language}
        rendered = template.render(values)
        head, _, body = rendered.partition("\n\n")
        if not head.startswith("Subject: "):
            raise ValueError(f"template {kind}.{language} must start with 'Subject: '")
        subject = head.removeprefix("Subject: ").strip()
        text = re.sub(r"\n{3,}", "\n\n", body.strip()) + "\n"
        page = self._html(f"{kind}.{language}.html", {**values, "subject": subject})
        return Rendered(
            subject=subject, text=text, html=page or _html_from_text(subject, text, language)
        )

    def _html(self, name: str, values: dict[str, Any]) -> str | None:
        """The hand-written HTML template rendered, or None when the kind has none."""
        if name in self._no_html:
            return None
        try:
            return self._text.get_template(name).render(values)
        except TemplateNotFound:
            self._no_html.add(name)
            return None


def _html_from_text(subject: str, text: str, language: str) -> str:
    paragraphs = []
    for paragraph in text.split("\n\n"):
        escaped = html.escape(paragraph)
        linked = _URL.sub(r'<a href="\1">\1</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>\n")
    return (
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head><body>\n"
        + "".join(paragraphs)
        + "</body></html>\n"
    )
