"""Words for the guide's codes, in Danish first (English second), used in texts and pages.

Needs and stages are named as every service names them, from the contracts' one label
table (indgang_contracts.labels); the guide's own codes (kinds, audiences, statuses)
are here.
"""

from __future__ import annotations

from indgang_contracts.events import Need, OrganisationStage
from indgang_contracts.labels import label

KINDS: dict[str, tuple[str, str]] = {
    "article": ("Artikel", "Article"),
    "legislation": ("Lovgivning", "Legislation"),
    "support_scheme": ("Støtteordning", "Support scheme"),
    "offer": ("Tilbud", "Offer"),
}

AUDIENCES: dict[str, tuple[str, str]] = {
    "internal": ("Kun internt", "Internal only"),
    "external": ("Kan sendes til virksomheden", "May be sent to the enterprise"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "draft": ("Kladde", "Draft"),
    "published": ("Udgivet", "Published"),
}


def need_label(need: Need | str, lang: str = "da") -> str:
    return label(Need(need), "en" if lang == "en" else "da")


def stage_label(stage: OrganisationStage | str, lang: str = "da") -> str:
    return label(OrganisationStage(stage), "en" if lang == "en" else "da")
