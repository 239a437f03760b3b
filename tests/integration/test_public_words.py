"""The enterprise's public pages (intake's form and receipt, the guide's /hjaelp and its
entry pages) say the same, correct thing about what the municipality can and cannot
do, name the same unit, and never show what is meant for staff (issue 13, points 9-10).

Basic local business guidance is the municipality's (erhvervsfremmeloven § 14);
specialised advice, the business plan among it, is the Erhvervshus's, which is what
the guide's business-plan entries say the consultant refers on to.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import httpx
import pytest

from indgang_guide.app import create_app as guide_app
from indgang_guide.settings import GuideSettings
from indgang_intake.app import create_app as intake_app
from indgang_intake.settings import IntakeSettings

from harness import KAFKA_BOOTSTRAP, MONGODB_URI, ROOT

CONTENT = Path(ROOT) / "services" / "guide" / "content"


def _entries() -> list[dict[str, object]]:
    return [
        e
        for path in sorted(CONTENT.glob("*.toml"))
        for e in tomllib.loads(path.read_text())["entry"]
    ]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _filled(form: str) -> dict[str, object]:
    hidden = dict(re.findall(r'name="(csrf|form_token)" value="([^"]*)"', form))
    return {
        **hidden,
        "organisation_name": "Ordenes Værksted",
        "organisation_stage": "idea",
        "contact_name": "Ærle Øst",
        "contact_email": "aerle.oest@eksempel.dk",
        "contact_language": "da",
        "needs": ["business_development"],
        "description": "Vi vil gerne have hjælp til en forretningsplan.",
        "privacy_notice_accepted": "yes",
    }


@pytest.fixture(scope="module")
async def pages(infra: None, run_id: str) -> dict[str, str]:
    guide = guide_app(
        GuideSettings(
            kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
            kafka_topic_prefix=f"test-{run_id}.",
            mongodb_uri=MONGODB_URI,
            mongodb_database=f"t_{run_id}_publicwords",
            consumer_group="indgang-guide-publicwords",
        )
    )
    intake = intake_app(
        IntakeSettings(
            kafka_bootstrap_servers=KAFKA_BOOTSTRAP,
            kafka_topic_prefix=f"test-{run_id}.",
            mongodb_uri=MONGODB_URI,
            mongodb_database=f"t_{run_id}_publicwords_i",
            consumer_group="indgang-intake-publicwords",
        )
    )
    found: dict[str, str] = {}
    async with guide.router.lifespan_context(guide), intake.router.lifespan_context(intake):
        g = httpx.AsyncClient(transport=httpx.ASGITransport(app=guide), base_url="http://g.test")
        i = httpx.AsyncClient(transport=httpx.ASGITransport(app=intake), base_url="http://i.test")
        async with g, i:
            for lang in ("da", "en"):
                found[f"hjaelp.{lang}"] = (await g.get(f"/hjaelp?lang={lang}")).text
                form = await i.get(f"/?lang={lang}")
                found[f"form.{lang}"] = form.text
                found[f"receipt.{lang}"] = (
                    await i.post(f"/?lang={lang}", data=_filled(form.text))
                ).text
            for entry in _entries():
                response = await g.get(f"/hjaelp/{entry['id']}")
                found[f"entry:{entry['id']}:{response.status_code}"] = response.text
    return found


def test_the_form_and_hjaelp_agree_on_the_erhvervshus(pages: dict[str, str]) -> None:
    form, help_page = _text(pages["form.da"]), _text(pages["hjaelp.da"])
    assert "erhvervsfremmeloven § 14" in form
    for page in (form, help_page):
        assert "Erhvervshus" in page
        assert "specialiseret forretningsrådgivning" in page.lower()
    # The business plan is named only among what the municipality cannot do itself.
    can = form.split("Det kan vi ikke")[0]
    assert "forretningsplan" not in can.lower()
    form_en = _text(pages["form.en"])
    assert "Business Promotion Act § 14" in form_en
    assert "business plan" not in form_en.split("What we cannot do")[0].lower()


def test_no_staff_only_entry_reaches_a_public_page(pages: dict[str, str]) -> None:
    internal = [e for e in _entries() if e.get("audience") == "internal"]
    assert internal, "the seed has staff-only entries to check"
    public = " ".join(v for k, v in pages.items() if not k.startswith("entry:"))
    for entry in internal:
        assert str(entry["title"]) not in public, entry["id"]
        assert f"entry:{entry['id']}:200" not in pages, entry["id"]


def test_the_receipt_says_the_same_about_paragraph_14(pages: dict[str, str]) -> None:
    receipt, help_page = _text(pages["receipt.da"]), _text(pages["hjaelp.da"])
    assert "Tak – vi har modtaget din henvendelse" in receipt
    for page in (receipt, help_page, _text(pages["form.da"])):
        assert "grundlæggende, lokal erhvervsvejledning" in page
        assert "§ 14" in page
        assert "Erhvervshus" in page
    # The business plan only as something the Erhvervshus gives.
    assert "specialiseret forretningsrådgivning, fx om forretningsplan" in receipt
    assert "Business Promotion Act § 14" in _text(pages["receipt.en"])


def test_every_public_page_names_the_same_unit(pages: dict[str, str]) -> None:
    unit = IntakeSettings().unit
    assert unit == GuideSettings().unit
    public = {k: v for k, v in pages.items() if not k.startswith("entry:") or k.endswith(":200")}
    assert len(public) > 10
    for name, page in public.items():
        text = _text(page)
        assert unit.name in text, name
        assert unit.phone in text, name
        assert unit.address in text, name


def test_no_review_note_on_a_public_page(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        if name.startswith("entry:") and name.endswith(":200"):
            text = _text(page).lower()
            for note in ("skal tjekkes", "skal verificeres", "skal udfyldes", "kladde"):
                assert note not in text, (name, note)
