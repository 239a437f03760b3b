"""Words for codes in messages, in Danish and English (needs, departments, dates)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from indgang_contracts import DEPARTMENT_NAMES

LABELS: dict[str, dict[str, str]] = {
    # needs
    "business_development": {"da": "forretningsudvikling", "en": "business development"},
    "hiring_vulnerable_unemployed": {
        "da": "ansættelse af ledige med støtte",
        "en": "hiring unemployed people with support",
    },
    "funding_and_support": {"da": "støtte og finansiering", "en": "funding and support"},
    "selling_to_municipality": {"da": "salg til kommunen", "en": "selling to the municipality"},
    "rsv_registration": {
        "da": "registrering som socialøkonomisk virksomhed (RSV)",
        "en": "registration as a social-economy enterprise (RSV)",
    },
    "courses_and_mentor_training": {
        "da": "kurser og mentoruddannelse",
        "en": "courses and mentor training",
    },
    "legislation": {"da": "lovgivning", "en": "legislation"},
    "other": {"da": "andet", "en": "other"},
    # departments: their names come from the contracts, like every service's
    **{
        department.value: {"da": names["da_in_text"], "en": names["en_in_text"]}
        for department, names in DEPARTMENT_NAMES.items()
    },
    # routing reasons
    "continuity": {"da": "kontinuitet", "en": "continuity"},
    "expertise": {"da": "faglig match", "en": "expertise"},
    "capacity": {"da": "kapacitet", "en": "capacity"},
    "least_loaded": {"da": "færrest sager", "en": "fewest cases"},
    "deputy": {"da": "stedfortræder", "en": "deputy"},
    "manual": {"da": "manuel omfordeling", "en": "manual reassignment"},
    # a department's answer to a referral
    "accepted": {"da": "ja, vil hjælpe", "en": "yes, will help"},
    "declined": {"da": "nej, kan ikke hjælpe", "en": "no, cannot help"},
    "completed": {"da": "hjælpen er afsluttet", "en": "the help is completed"},
}

MONTHS = {
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "en": "January February March April May June July August September October November December",
}


def label(code: object, language: str) -> str:
    key = code.value if isinstance(code, Enum) else str(code)
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry.get(language) or entry["da"]


def day(value: date | datetime, language: str) -> str:
    """'3. december 2026' / '3 December 2026'."""
    month = MONTHS.get(language, MONTHS["da"]).split()[value.month - 1]
    dot = "." if language == "da" else ""
    return f"{value.day}{dot} {month} {value.year}"


def sentence_start(text: str) -> str:
    """The first letter upper case, the rest as written: 'the CSR function' -> 'The CSR
    function' (Jinja's `capitalize` would make it 'The csr function')."""
    return text[:1].upper() + text[1:]
