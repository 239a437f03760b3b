"""Words for the guide's codes, in Danish first (English second), used in texts and pages."""

from __future__ import annotations

from indgang_contracts.events import Need, OrganisationStage

NEEDS: dict[Need, tuple[str, str]] = {
    Need.BUSINESS_DEVELOPMENT: ("forretningsudvikling og forretningsplan", "business development"),
    Need.HIRING_VULNERABLE_UNEMPLOYED: (
        "ansættelse af udsatte ledige",
        "hiring vulnerable unemployed",
    ),
    Need.FUNDING_AND_SUPPORT: ("finansiering og støtteordninger", "funding and support"),
    Need.SELLING_TO_MUNICIPALITY: ("salg til kommunen", "selling to the municipality"),
    Need.RSV_REGISTRATION: ("registrering som RSV", "RSV registration"),
    Need.COURSES_AND_MENTOR_TRAINING: (
        "kurser og mentoruddannelse",
        "courses and mentor training",
    ),
    Need.LEGISLATION: ("lovgivning", "legislation"),
    Need.OTHER: ("andet", "other"),
}

STAGES: dict[OrganisationStage, tuple[str, str]] = {
    OrganisationStage.IDEA: ("idéfasen", "idea"),
    OrganisationStage.START_UP: ("opstart", "start-up"),
    OrganisationStage.ESTABLISHED_SOCIAL_ECONOMY: (
        "etableret socialøkonomisk virksomhed",
        "established social-economy enterprise",
    ),
    OrganisationStage.ORDINARY_COMPANY: ("almindelig virksomhed", "ordinary company"),
}

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
    da, en = NEEDS[Need(need)]
    return en if lang == "en" else da


def stage_label(stage: OrganisationStage | str, lang: str = "da") -> str:
    da, en = STAGES[OrganisationStage(stage)]
    return en if lang == "en" else da
