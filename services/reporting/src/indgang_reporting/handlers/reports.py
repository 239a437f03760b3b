"""The use case on the read side: the facts of the chosen periods, then one report's
figures (pure, `domain.figures`)."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from indgang_reporting.domain.figures import REPORTS, Facts, Selection
from indgang_reporting.domain.periods import Span


class FactSource(Protocol):
    async def facts(self, span: Span, *, openers: bool = False) -> Facts: ...


async def report(source: FactSource, name: str, selection: Selection) -> BaseModel:
    facts = await source.facts(selection.span, openers=selection.door is not None)
    return REPORTS[name](facts, selection)
