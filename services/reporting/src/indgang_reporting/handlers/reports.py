"""The use case on the read side: the facts of the chosen periods, then one report's
figures (pure, `domain.figures`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from pydantic import BaseModel

from indgang_reporting.domain.figures import NEEDS, REPORTS, Facts, Selection
from indgang_reporting.domain.periods import Span


class FactSource(Protocol):
    async def facts(
        self, span: Span, *, parts: Collection[str] = ..., openers: bool = False
    ) -> Facts: ...


async def report(source: FactSource, name: str, selection: Selection) -> BaseModel:
    # The door of a case is its opening inquiry's: only the first-contact report needs it.
    openers = selection.door is not None and "cases" in NEEDS[name]
    facts = await source.facts(selection.span, parts=NEEDS[name], openers=openers)
    return REPORTS[name](facts, selection)
