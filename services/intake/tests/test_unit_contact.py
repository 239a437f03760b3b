"""The public pages name the unit, its phone (the Danish way) and address from
intake's settings, beside the form and on the receipt (issue 13, point 9)."""

from __future__ import annotations

import re

import httpx
import pytest

from indgang_intake.app import create_app
from indgang_intake.settings import IntakeSettings
from indgang_runtime.phone import danish_phone

from harness import MONGODB_URI


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("12345678", "12 34 56 78"),
        ("+4512345678", "+45 12 34 56 78"),
        ("0045 1234 5678", "+45 12 34 56 78"),
        ("12-34-56-78", "12 34 56 78"),
        ("112", "112"),
    ],
)
def test_danish_phone(raw: str, shown: str) -> None:
    assert danish_phone(raw) == shown


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_the_form_names_the_unit_its_phone_and_address(lang: str) -> None:
    settings = IntakeSettings(
        mongodb_uri=MONGODB_URI,
        mongodb_database="t_unit_contact",
        unit_name="Erhvervsservice Testby",
        unit_phone="+4587654321",
        unit_address="Torvet 3, 9999 Testby",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as http:
        response = await http.get(f"/?lang={lang}")
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.text)
    assert "Erhvervsservice Testby" in text
    assert "+45 87 65 43 21" in text
    assert 'href="tel:+4587654321"' in text
    assert "Torvet 3, 9999 Testby" in text
