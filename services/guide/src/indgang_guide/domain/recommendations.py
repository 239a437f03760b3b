"""Ranking guide entries for a case: its needs first, then its stage, each with a why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.domain.entries import Entry, SectionId
from indgang_guide.domain.labels import need_label, stage_label

# Why these weights: a need the case names is what the consultant asked for;
# the stage only orders entries that cover the same needs; "other" is a
# catch-all and says little; an entry that may be sent to the enterprise saves
# the consultant a step; one that must be checked is still shown, but later.
NEED_WEIGHT = 2.0
VAGUE_NEED_WEIGHT = 0.5
STAGE_WEIGHT = 0.75
EXTERNAL_WEIGHT = 0.25
NEEDS_REVIEW_PENALTY = 0.5


class Recommendation(BaseModel):
    entry_id: str
    title: str
    section: SectionId
    audience: str
    score: float
    why: str


def main_need(entry: Entry, wanted: list[Need]) -> Need | None:
    """The case's need that is the entry's own subject (its first need tag), if any.

    Why the first tag: an entry is tagged with its subject first and with what it
    touches after (`loentilskud`: hiring, then funding), so an entry on wage
    subsidy matches a case asking for hiring more closely than a broad article
    that merely mentions hiring among three other needs.
    """
    if entry.needs and entry.needs[0] in wanted and entry.needs[0] is not Need.OTHER:
        return entry.needs[0]
    return None


def _why(
    covered: list[Need],
    stage: OrganisationStage | None,
    entry: Entry,
    today: date,
    main: Need | None,
) -> str:
    names = [f"»{need_label(n)}«" for n in covered]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]
    why = f"Matcher behov: {need_label(main)}. " if main is not None else ""
    why += f"Dækker behovet {listed}" if len(names) == 1 else f"Dækker behovene {listed}"
    if stage is not None and stage in entry.stages:
        why += f" og passer til fasen »{stage_label(stage)}«"
    why += "."
    if entry.audience == "external":
        why += " Kan sendes til virksomheden."
    else:
        why += " Kun til internt brug."
    if entry.is_due_for_review(today):
        why += " Bør tjekkes, før du bruger det."
    return why


def recommend(
    entries: Iterable[Entry],
    needs: Iterable[Need],
    stage: OrganisationStage | None,
    limit: int = 5,
    today: date | None = None,
) -> list[Recommendation]:
    """Published entries ranked for a case; deterministic (ties by id).

    First the entries whose own subject is one of the case's needs, taking the
    best of each need in turn (so "løntilskud + RSV + salg til kommunen" shows
    wage subsidy, RSV registration and selling to the municipality before a
    second entry on any of them); then every other entry covering a need, by
    score. A broad article covering several needs thus comes after the focused
    entries, however many needs it touches.
    """
    today = today or date.today()
    wanted = list(dict.fromkeys(needs))
    focused: dict[Need, list[tuple[float, str, Entry, list[Need]]]] = {n: [] for n in wanted}
    broad: list[tuple[float, str, Entry, list[Need]]] = []
    for entry in entries:
        if entry.status != "published":
            continue
        covered = [n for n in wanted if n in entry.needs]
        if not covered:
            continue
        score = sum(VAGUE_NEED_WEIGHT if n is Need.OTHER else NEED_WEIGHT for n in covered)
        if stage is not None and stage in entry.stages:
            score += STAGE_WEIGHT
        if entry.audience == "external":
            score += EXTERNAL_WEIGHT
        if entry.is_due_for_review(today):
            score -= NEEDS_REVIEW_PENALTY
        main = main_need(entry, wanted)
        (focused[main] if main is not None else broad).append((-score, entry.id, entry, covered))
    for group in [*focused.values(), broad]:
        group.sort(key=lambda r: (r[0], r[1]))
    # Round robin over the case's needs: the best focused entry of each, then the second, ...
    ordered = [
        group[i]
        for i in range(max((len(g) for g in focused.values()), default=0))
        for group in focused.values()
        if i < len(group)
    ]
    ordered += broad
    return [
        Recommendation(
            entry_id=entry.id,
            title=entry.title,
            section=entry.section,
            audience=entry.audience,
            score=round(-neg_score, 3),
            why=_why(covered, stage, entry, today, main_need(entry, wanted)),
        )
        for neg_score, _, entry, covered in ordered[:limit]
    ]
