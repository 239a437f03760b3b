"""The internal guide: the seed's four sections and their entries.

Pure domain: the entry model with its rules, and ranking for a case.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from indgang_contracts.events import Need, OrganisationStage


class SectionId(StrEnum):
    STARTING_AND_RUNNING = "starting_and_running"
    EMPLOYING_VULNERABLE_UNEMPLOYED = "employing_vulnerable_unemployed"
    OFFERS = "offers"
    SOCIAL_VALUE_PARTNERSHIP = "social_value_partnership"


class EntryKind(StrEnum):
    ARTICLE = "article"
    LEGISLATION = "legislation"
    SUPPORT_SCHEME = "support_scheme"
    OFFER = "offer"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    url: AnyHttpUrl


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: SectionId
    title: str
    title_en: str
    description: str


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    section: SectionId
    kind: EntryKind
    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(min_length=1, max_length=600)
    body: str = Field(min_length=1)
    needs: list[Need] = Field(default_factory=list)
    stages: list[OrganisationStage] = Field(default_factory=list)
    audience: Literal["internal", "external"]
    owner: str = Field(min_length=1)
    review_by: date
    status: Literal["draft", "published"]
    needs_review: bool = False
    tags: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    law: str | None = None
    law_reference: str | None = None
    section_ref: str | None = None
    official_url: AnyHttpUrl | None = None
    administered_by: str | None = None
    eligibility: str | None = None
    how_to_apply: str | None = None
    provider: str | None = None
    contact: str | None = None
    price: str | None = None

    @model_validator(mode="after")
    def _kind_rules(self) -> Entry:
        if self.kind is EntryKind.LEGISLATION:
            missing = [f for f in ("law", "law_reference", "official_url") if not getattr(self, f)]
            if missing:
                raise ValueError(f"a legislation entry needs {', '.join(missing)}")
            if not self.sources:
                raise ValueError("a legislation entry needs at least one source")
        if self.kind is EntryKind.SUPPORT_SCHEME and not self.administered_by:
            raise ValueError("a support scheme needs administered_by")
        if self.kind is EntryKind.OFFER and not self.provider:
            raise ValueError("an offer needs a provider")
        return self


class Recommendation(BaseModel):
    entry_id: str
    title: str
    section: SectionId
    audience: str
    score: float
    why: str


def recommend(
    entries: list[Entry], needs: list[Need], stage: OrganisationStage | None, limit: int = 5
) -> list[Recommendation]:
    """Published entries ranked by how many of the case's needs they cover, then stage."""
    wanted = set(needs)
    ranked: list[tuple[float, str, Entry, list[Need]]] = []
    for entry in entries:
        if entry.status != "published":
            continue
        covered = [n for n in entry.needs if n in wanted]
        if not covered:
            continue
        stage_match = stage is not None and stage in entry.stages
        score = len(covered) + (0.5 if stage_match else 0.0)
        ranked.append((-score, entry.id, entry, covered))
    ranked.sort(key=lambda r: (r[0], r[1]))
    result = []
    for neg_score, _, entry, covered in ranked[:limit]:
        why = "Dækker " + ", ".join(n.value for n in covered)
        if stage is not None and stage in entry.stages:
            why += f" og passer til fasen {stage.value}"
        result.append(
            Recommendation(
                entry_id=entry.id,
                title=entry.title,
                section=entry.section,
                audience=entry.audience,
                score=-neg_score,
                why=why + ".",
            )
        )
    return result
