"""Intake's words on every page (issue 13, point 11), against the running services:

- every code (need, stage, channel, department) is shown with its label from the
  contracts' one label table; only the public form words two of them for the
  enterprise (`PUBLIC_WORDING`); no raw code, template key or placeholder on screen;
- the public pages (form, error page, receipt) say "du" throughout, never "I/jer";
- the staff form is worded for staff registering someone else's inquiry
  ("Henvenderens navn", not "Dit navn"), in its errors too, and its receipt shows the
  inquirer's phone the Danish way;
- the form and the receipt say the same about erhvervsfremmeloven § 14.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
from intake_helpers import client_ip, valid_cvr

from indgang_contracts.events import Department, InquiryChannel, Need, OrganisationStage
from indgang_contracts.labels import label
from indgang_intake.web.forms import code_label

from pytest_indgang import System

CODES = [*Need, *OrganisationStage, *InquiryChannel, *Department]
# A template key looks like "form.contact.name" or "staff.receipt.title".
KEY = re.compile(
    r"\b(form|staff|receipt|expect|unit|privacy|a11y|errors|limit|need|stage|channel|"
    r"department|language|footer|unavailable|toolarge)\.[a-z_]+(\.[a-z_0-9]+)*\b"
)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# "I/jer" to the enterprise (the public pages say "du"); "I" only as a pronoun.
PLURAL_YOU = re.compile(r"\b(jer|jeres)\b|\bI (har|vil|kun|ikke|er|får|bliver|skal|kan)\b")


def text_of(page: str) -> str:
    """What a reader sees: the body without tags (attribute values are not on screen)."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def assert_clean(page: str, where: str) -> str:
    text = text_of(page)
    for code in CODES:
        if "_" in code.value:  # "web", "email", "phone" are also ordinary words
            assert code.value not in text, (where, code.value)
    assert not KEY.search(text), (where, KEY.search(text))
    assert not PLACEHOLDER.search(text), (where, PLACEHOLDER.search(text))
    return text


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def filled(page: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "csrf": hidden(page, "csrf"),
        "form_token": hidden(page, "form_token"),
        "organisation_name": "Værkstedet Ølstykke",
        "organisation_cvr": valid_cvr(),
        "organisation_stage": "established_social_economy",
        "contact_name": "Bjørn Åkjær",
        "contact_email": f"bjorn.{uuid.uuid4().hex[:6]}@example.dk",
        "contact_phone": "+4520304050",
        "contact_language": "da",
        "needs": ["selling_to_municipality", "hiring_vulnerable_unemployed"],
        "description": "Vil gerne sælge til kommunen.",
        "privacy_notice_accepted": "yes",
    }
    fields.update(changes)
    return fields


async def test_public_pages_use_the_label_table_and_say_du(system: System) -> None:
    headers = {"X-Forwarded-For": client_ip()}
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as http:
        for lang in ("da", "en"):
            form = await http.get(f"/?lang={lang}", headers=headers)
            text = assert_clean(form.text, f"form {lang}")
            for code in [*Need, *OrganisationStage]:
                assert code_label(code, lang, public=True) in text, code
            if lang == "da":
                assert not PLURAL_YOU.search(text), PLURAL_YOU.search(text)
                assert "Dit navn" in text
                # Only the wording for the enterprise differs from the shared table.
                assert "Ansættelse af udsatte ledige" not in text
            for path in ("/privatliv", "/tilgaengelighed"):
                assert_clean((await http.get(f"{path}?lang={lang}")).text, f"{path} {lang}")

        form = await http.get("/?lang=da", headers=headers)
        errors = await http.post(
            "/?lang=da", data={"csrf": hidden(form.text, "csrf")}, headers=headers
        )
        assert errors.status_code == 422
        text = assert_clean(errors.text, "error page")
        assert not PLURAL_YOU.search(text), PLURAL_YOU.search(text)

        receipt = await http.post("/?lang=da", data=filled(form.text), headers=headers)
        assert receipt.status_code == 200, receipt.text
        text = assert_clean(receipt.text, "receipt")
        assert not PLURAL_YOU.search(text), PLURAL_YOU.search(text)
        # The same as the form about § 14, and no promise of help with the business plan.
        assert "grundlæggende, lokal erhvervsvejledning (erhvervsfremmeloven § 14)" in text
        assert "hjælper konsulenten dig videre til Erhvervshuset" in text
        assert "12 34 56 78" in text


async def test_the_staff_form_is_worded_for_staff(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as staff:
        login = await staff.post(
            "/auth/login", data={"username": "ane-kjaer", "password": "indgang-dev"}
        )
        assert login.status_code == 303
        for lang in ("da", "en"):
            page = await staff.get(f"/medarbejder/henvendelse?lang={lang}")
            text = assert_clean(page.text, f"staff form {lang}")
            for code in [*Need, *OrganisationStage, *Department]:
                assert label(code, lang) in text, code  # the shared label, not the public one
            for channel in InquiryChannel:
                if channel is not InquiryChannel.WEB:
                    assert label(channel, lang) in text, channel
        page = await staff.get("/medarbejder/henvendelse?lang=da")
        text = text_of(page.text)
        assert "Henvenderens navn" in text
        assert "Hvad vil henvenderen have hjælp til?" in text
        for public in ("Dit navn", "Vi sender en kvittering", "du gerne have hjælp"):
            assert public not in text, public

        errors = await staff.post(
            "/medarbejder/henvendelse?lang=da",
            data={"csrf": hidden(page.text, "csrf"), "form_token": hidden(page.text, "form_token")},
        )
        assert errors.status_code == 422
        text = assert_clean(errors.text, "staff errors")
        assert "Skriv henvenderens navn." in text
        assert "Skriv dit navn." not in text

        done = await staff.post(
            "/medarbejder/henvendelse?lang=da",
            data=filled(page.text, channel="forwarded", forwarded_by="job_centre"),
        )
        assert done.status_code == 200, done.text
        text = assert_clean(done.text, "staff receipt")
        door = f"{label(InquiryChannel.FORWARDED)} – {label(Department.JOB_CENTRE)}"
        assert door in text
        assert "+45 20 30 40 50" in text  # the inquirer's phone, the Danish way
