"""Validation messages per field in Danish and English, for the API and the pages.

Pydantic reports errors as (loc, type, ctx); this module words each one for
people. Field-specific texts come first, then texts per error type, then a
generic one, so every error gets a message in both languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from indgang_intake.domain.inquiry import DESCRIPTION_MAX, NAME_MAX
from indgang_runtime.pages import Language

Pair = tuple[str, str]  # (Danish, English)

_NAME_LONG: Pair = (
    f"Må højst være {NAME_MAX} tegn.",
    f"Must be at most {NAME_MAX} characters.",
)

_NO_CONTROL: Pair = (
    "Må ikke indeholde linjeskift eller andre styretegn.",
    "Must not contain line breaks or other control characters.",
)

# (field, error type) → texts; "*" matches any type; list positions are "*".
FIELD_MESSAGES: dict[tuple[str, str], Pair] = {
    ("organisation", "*"): (
        "Udfyld oplysningerne om organisationen.",
        "Fill in the details about the organisation.",
    ),
    ("organisation.name", "string_too_long"): _NAME_LONG,
    ("organisation.name", "control_characters"): _NO_CONTROL,
    ("organisation.name", "*"): (
        "Skriv organisationens navn – eller et arbejdsnavn, hvis der kun er en idé.",
        "Enter the organisation's name – or a working name if there is only an idea.",
    ),
    ("organisation.cvr", "*"): (
        "CVR-nummeret skal være 8 cifre med et gyldigt kontrolciffer. "
        "Lad feltet være tomt, hvis organisationen ikke har et CVR-nummer.",
        "The CVR number must be 8 digits with a valid check digit. "
        "Leave the field empty if the organisation has no CVR number.",
    ),
    ("organisation.stage", "*"): (
        "Vælg, hvor langt organisationen er kommet.",
        "Choose how far the organisation has come.",
    ),
    ("contact", "*"): (
        "Udfyld oplysningerne om kontaktpersonen.",
        "Fill in the details about the contact person.",
    ),
    ("contact.name", "string_too_long"): _NAME_LONG,
    ("contact.name", "control_characters"): _NO_CONTROL,
    ("contact.name", "*"): ("Skriv dit navn.", "Enter your name."),
    ("contact.email", "*"): (
        "Skriv en gyldig e-mailadresse, fx navn@firma.dk.",
        "Enter a valid e-mail address, e.g. name@company.dk.",
    ),
    ("contact.phone", "*"): (
        "Telefonnummeret er ikke gyldigt. Skriv et dansk nummer med 8 cifre, "
        "eller et udenlandsk nummer med landekode (fx +46). Feltet kan også være tomt.",
        "The phone number is not valid. Enter a Danish number with 8 digits, "
        "or a foreign number with its country code (e.g. +46). The field may also be empty.",
    ),
    ("contact.preferred_language", "*"): (
        "Vælg dansk eller engelsk.",
        "Choose Danish or English.",
    ),
    ("needs", "too_long"): (
        "Vælg hvert emne højst én gang.",
        "Choose each topic at most once.",
    ),
    ("needs", "*"): (
        "Vælg mindst ét emne, du vil have hjælp til.",
        "Choose at least one topic you want help with.",
    ),
    ("needs.*", "*"): (
        "Vælg emner fra listen.",
        "Choose topics from the list.",
    ),
    ("description", "string_too_long"): (
        f"Beskrivelsen må højst være {DESCRIPTION_MAX} tegn. Du har skrevet {{length}}.",
        f"The description may be at most {DESCRIPTION_MAX} characters. You wrote {{length}}.",
    ),
    ("description", "*"): (
        "Beskriv kort, hvad du gerne vil have hjælp til.",
        "Describe briefly what you would like help with.",
    ),
    ("privacy_notice_accepted", "*"): (
        "Bekræft, at du har læst, hvordan kommunen behandler dine oplysninger.",
        "Confirm that you have read how the municipality handles your data.",
    ),
    ("channel", "*"): (
        "Vælg, hvordan henvendelsen kom ind: telefon, e-mail, møde eller videresendt.",
        "Choose how the inquiry came in: phone, e-mail, meeting or forwarded.",
    ),
    ("forwarded_by", "*"): (
        "Vælg den afdeling, der har sendt henvendelsen videre.",
        "Choose the department that forwarded the inquiry.",
    ),
    ("Idempotency-Key", "idempotency_key_reused"): (
        "Idempotency-Key er allerede brugt med en anden henvendelse. Brug en ny nøgle til en "
        "ny henvendelse.",
        "This Idempotency-Key was already used with a different request body. Use a new key "
        "for a new inquiry.",
    ),
    ("Idempotency-Key", "*"): (
        "Idempotency-Key skal være 1 til 255 tegn.",
        "Idempotency-Key must be 1 to 255 characters.",
    ),
}

TYPE_MESSAGES: dict[str, Pair] = {
    "missing": ("Skal udfyldes.", "This field is required."),
    "string_too_short": ("Skal udfyldes.", "This field is required."),
    "string_too_long": (
        "Må højst være {max_length} tegn.",
        "Must be at most {max_length} characters.",
    ),
    "extra_forbidden": (
        "Feltet kendes ikke og må ikke sendes med.",
        "Unknown field; it must not be sent.",
    ),
    "json_invalid": ("Indholdet er ikke gyldig JSON.", "The body is not valid JSON."),
    "model_attributes_type": ("Skal være et JSON-objekt.", "Must be a JSON object."),
    "dict_type": ("Skal være et JSON-objekt.", "Must be a JSON object."),
    "list_type": ("Skal være en liste.", "Must be a list."),
    "string_type": ("Skal være tekst.", "Must be text."),
    "bool_type": ("Skal være true eller false.", "Must be true or false."),
    "bool_parsing": ("Skal være true eller false.", "Must be true or false."),
    "enum": ("Vælg en af de mulige værdier.", "Choose one of the allowed values."),
}

GENERIC: Pair = ("Værdien er ikke gyldig.", "The value is not valid.")


def field_path(loc: Sequence[Any]) -> str:
    """`("body", "needs", 2)` → `"needs.*"`; headers by name, e.g. `"Idempotency-Key"`."""
    parts = list(loc)
    if parts and parts[0] in ("body", "header", "query", "path"):
        parts = parts[1:]
    return ".".join("*" if isinstance(p, int) else str(p) for p in parts)


def _format(text: str, error: Mapping[str, Any]) -> str:
    values: dict[str, Any] = {**(error.get("ctx") or {})}
    raw = error.get("input")
    values["length"] = len(raw) if isinstance(raw, str) else ""
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


def localise(error: Mapping[str, Any]) -> Pair:
    """(Danish, English) message for one pydantic/FastAPI error."""
    path = field_path(error.get("loc", ()))
    kind = str(error.get("type", ""))
    pair = (
        FIELD_MESSAGES.get((path, kind))
        or FIELD_MESSAGES.get((path, "*"))
        or TYPE_MESSAGES.get(kind)
        or GENERIC
    )
    return _format(pair[0], error), _format(pair[1], error)


def localised_detail(errors: Iterable[Mapping[str, Any]], lang: Language) -> list[dict[str, Any]]:
    """FastAPI's 422 shape (`loc`, `msg`, `type`), `msg` in `lang`, plus both languages."""
    out = []
    for error in errors:
        da, en = localise(error)
        out.append(
            {
                "loc": list(error.get("loc", ())),
                "msg": da if lang == "da" else en,
                "type": error.get("type"),
                "msg_da": da,
                "msg_en": en,
            }
        )
    return out


def api_language(query_lang: str | None, accept_language: str | None) -> Language:
    """`?lang=da|en` first, then the best of da/en in Accept-Language; Danish by default."""
    if query_lang in ("da", "en"):
        return "da" if query_lang == "da" else "en"
    best: tuple[float, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("da", "en"):
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality <= 0:
            continue
        lang: Language = "da" if primary == "da" else "en"
        # Higher quality wins; on a tie, the one listed first.
        score = quality - position * 1e-6
        if best is None or score > best[0]:
            best = (score, lang)
    return best[1] if best else "da"
