"""Issue 13 (points 3, 5, 6, 7) through the use cases, the console and the staff API on the
real store: a department's answer recorded on its behalf, the overdue-referral job, writing
to the enterprise, correcting the contact person, the closing message, the referral's own
line for the enterprise."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from indgang_contracts.events import (
    CaseContactChanged,
    CaseStatusChanged,
    Department,
    MessageToEnterprise,
    ReferralMade,
    ReferralOutcome,
    ReferralOverdue,
    ReferralStatus,
    ReferralTarget,
    ReferralUpdated,
)
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.calendar import COPENHAGEN
from indgang_routing.domain.errors import InvalidInput, InvalidTransition, NotAllowed
from indgang_routing.domain.referrals import ReferralRequest
from indgang_runtime.auth import DepartmentSystem

ANE = Actor(id="ane-kjaer", name="Ane Kjær", consultant_id="ane-kjaer")
BJARNE = Actor(id="bjarne-holm", name="Bjarne Holm", consultant_id="bjarne-holm")


async def login(client: httpx.AsyncClient, user: str) -> None:
    response = await client.post("/auth/login", data={"username": user, "password": "indgang-dev"})
    assert response.status_code == 303, response.text
    session = await client.get("/auth/session")
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]


async def post(client: httpx.AsyncClient, url: str, data: dict[str, Any]) -> str:
    response = await client.post(url, data=data)
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    found = re.search(
        r'id="flash">\s*<div class="alert-body"><p class="alert-text">(.*?)</p>', page.text
    )
    return htmllib.unescape(found.group(1)) if found else ""


def noon_on(day: date) -> datetime:
    return datetime.combine(day, time(12), COPENHAGEN)


def today(routing: Any) -> date:
    return routing.use.ctx.local_day(routing.use.ctx.now())


async def refer(routing: Any, case_id: str, due: date | None, message: str | None = None) -> str:
    request = ReferralRequest(
        target=ReferralTarget(department=Department.JOB_CENTRE),
        purpose="Afklaring af løntilskud til to ledige.",
        needs=[],
        response_due=due,
        consent_to_share_contact=True,
        message_to_enterprise=message,
    )
    return str(await routing.use.referrals.make(case_id, request, ANE))


@pytest.fixture
async def ane_case(routing: Any) -> str:
    return str(await routing.use.routing.route_inquiry(routing.inquiry(1)))


# --- pt 3: an answer recorded on the department's behalf ---------------------------------


async def test_a_recorded_answer_is_published_as_the_targets_with_who_recorded_it(
    routing: Any, ane_case: str
) -> None:
    use = routing.use
    referral_id = await refer(routing, ane_case, today(routing) + timedelta(days=10))
    yesterday = today(routing) - timedelta(days=1)
    with pytest.raises(InvalidInput, match="før henvisningen"):
        await use.referrals.record_answer(
            ane_case, referral_id, ANE, ReferralStatus.ACCEPTED, None, None, yesterday
        )
    with pytest.raises(NotAllowed):
        await use.referrals.record_answer(
            ane_case, referral_id, BJARNE, ReferralStatus.ACCEPTED, None, None, today(routing)
        )
    assert await use.referrals.record_answer(
        ane_case, referral_id, ANE, ReferralStatus.ACCEPTED, None, None, today(routing)
    )
    # The same answer again (a form sent twice) changes nothing.
    assert not await use.referrals.record_answer(
        ane_case, referral_id, ANE, ReferralStatus.ACCEPTED, None, None, today(routing)
    )
    (answer,) = await routing.events(ane_case, ReferralUpdated)
    update = answer.data
    assert update.answered_by is Department.JOB_CENTRE
    assert update.recorded_by == "ane-kjaer"
    assert update.reference == "H-T0000001"
    assert update.consultant is not None
    assert update.consultant.id == "ane-kjaer"
    case = await routing.case(ane_case)
    stored = case["referrals"][0]
    assert stored["status"] == "accepted"
    assert stored["answers"][0]["recorded_by"] == "ane-kjaer"
    assert case["timeline"][-1]["text"].startswith(
        "Jobcentret har accepteret henvisningen. Registreret af Ane Kjær på vegne af Jobcentret"
    )
    # Routing's own event coming back from Kafka changes nothing.
    assert not await use.referrals.apply(answer)
    # The department's own answer through the API now carries the reference and consultant.
    case_id = await use.referrals.answer(
        referral_id,
        DepartmentSystem(Department.JOB_CENTRE),
        ReferralStatus.DECLINED,
        "Ingen ledige med den profil.",
        None,
    )
    assert case_id == ane_case
    api_answer = (await routing.events(ane_case, ReferralUpdated))[-1].data
    assert api_answer.recorded_by is None
    assert api_answer.reference == "H-T0000001"
    assert api_answer.consultant is not None
    # Declined is final: recording another answer follows the same transitions.
    done = ReferralOutcome(summary="To ansat.")
    with pytest.raises(InvalidTransition):
        await use.referrals.record_answer(
            ane_case, referral_id, ANE, ReferralStatus.COMPLETED, None, done, today(routing)
        )


async def test_recording_an_answer_from_the_case_page_and_the_staff_api(
    routing: Any, ane_case: str
) -> None:
    first = await refer(routing, ane_case, today(routing) + timedelta(days=10))
    second = await refer(routing, ane_case, today(routing) + timedelta(days=10))
    url = f"/sager/{ane_case}"
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        html = (await client.get(url)).text
        assert "Registrér svar fra Jobcentret" in html
        form = {
            "referral_id": first,
            "status": "completed",
            "summary": "To ansat i løntilskud.",
            "wage_subsidy_hires": "2",
            "answered_on": (today(routing) + timedelta(days=1)).isoformat(),
        }
        assert await post(client, f"{url}/henvisninger/svar", form) == (
            "Datoen for svaret kan ikke ligge i fremtiden."
        )
        form["answered_on"] = today(routing).isoformat()
        assert await post(client, f"{url}/henvisninger/svar", form) == "Svaret er registreret."
        assert await post(client, f"{url}/henvisninger/svar", form) == (
            "Henvisningen havde allerede det svar; intet er ændret."
        )
        html = (await client.get(url)).text
        assert "Registreret af Ane Kjær på vegne af Jobcentret" in html

        api = f"/api/v1/cases/{ane_case}/referrals/{second}/answer"
        declined = {"status": "declined", "reason": "Ingen plads."}
        response = await client.post(api, json=declined)
        assert response.status_code == 200, response.text
        assert response.json()["recorded"] is True
        assert (await client.post(api, json=declined)).json()["recorded"] is False
        assert (await client.post(api, json={"status": "declined"})).status_code == 422
        response = await client.post(api, json={"status": "accepted"})
        assert response.status_code == 409

        await client.post("/auth/logout")
        await login(client, "bjarne-holm")  # not his case
        response = await client.post(api, json={"status": "accepted"})
        assert response.status_code == 403
    updates = [e.data for e in await routing.events(ane_case, ReferralUpdated)]
    assert [(u.referral_id, u.status.value, u.recorded_by) for u in updates] == [
        (first, "completed", "ane-kjaer"),
        (second, "declined", "ane-kjaer"),
    ]
    assert updates[0].outcome is not None
    assert updates[0].outcome.wage_subsidy_hires == 2


# --- pt 3: overdue referrals ------------------------------------------------------------


async def test_a_referral_without_an_answer_by_its_deadline_is_reported_once(
    routing: Any, ane_case: str
) -> None:
    use = routing.use
    job = use.casework.overdue_referrals
    due = today(routing)
    late = await refer(routing, ane_case, due)
    answered = await refer(routing, ane_case, due)
    later = await refer(routing, ane_case, due + timedelta(days=3))
    assert (await routing.case(ane_case))["referral_watch"] == sorted(
        {due.isoformat(), (due + timedelta(days=3)).isoformat()}
    )
    await use.referrals.record_answer(
        ane_case, answered, ANE, ReferralStatus.ACCEPTED, None, None, due
    )
    with pytest.raises(InvalidInput, match="fortiden"):
        await refer(routing, ane_case, due - timedelta(days=1))

    assert await job.report() == 0  # due today: not late yet
    use.ctx.clock = lambda: noon_on(due + timedelta(days=1))
    # Three instances at once: reported once.
    assert sorted([await job.report(), await job.report(), await job.report()]) == [0, 0, 1]
    (overdue,) = await routing.events(ane_case, ReferralOverdue)
    assert overdue.data.referral_id == late
    assert overdue.data.target_name == "Jobcentret"
    assert overdue.data.response_due == due
    assert overdue.data.consultant.id == "ane-kjaer"
    case = await routing.case(ane_case)
    assert case["referral_watch"] == [(due + timedelta(days=3)).isoformat()]
    assert case["referrals"][0]["overdue_reported_at"] is not None
    assert "Forsinket svar: Jobcentret" in case["timeline"][-1]["text"]

    # Shown on the case page and found by the search filter; answering clears it.
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        html = (await client.get(f"/sager/{ane_case}")).text
        assert 'id="case-late-answer"' in html
        assert "Forsinket svar" in (await client.get("/sager")).text
        found = (await client.get("/sager/soeg?forsinket=1")).text
        assert "H-T0000001" in found
        await use.referrals.record_answer(
            ane_case, late, ANE, ReferralStatus.DECLINED, "Ingen plads.", None, due
        )
        html = (await client.get(f"/sager/{ane_case}")).text
        assert 'id="case-late-answer"' not in html
        assert "H-T0000001" not in (await client.get("/sager/soeg?forsinket=1")).text

    # The later one, answered before its deadline passed, is never reported.
    await use.referrals.record_answer(
        ane_case, later, ANE, ReferralStatus.ACCEPTED, None, None, due + timedelta(days=1)
    )
    use.ctx.clock = lambda: noon_on(due + timedelta(days=6))
    assert await job.report() == 0
    assert len(await routing.events(ane_case, ReferralOverdue)) == 1
    assert (await routing.case(ane_case))["referral_watch"] == []


async def test_the_referral_job_starts_from_the_earliest_watched_deadline(
    routing: Any, ane_case: str
) -> None:
    """A store whose referral job has no progress (first start, or lost): it begins at the
    earliest deadline still watched, so a referral late for long is reported too."""
    use = routing.use
    due = today(routing)
    await refer(routing, ane_case, due)
    long_ago = (due - timedelta(days=20)).isoformat()
    await routing.cases.update_one(
        {"_id": ane_case},
        {"$set": {"referrals.0.response_due": long_ago, "referral_watch": [long_ago]}},
    )
    await routing.db["jobs"].delete_one({"_id": "referral-overdue"})
    await use.casework.overdue_referrals.prepare()
    assert await use.casework.overdue_referrals.report() == 1


# --- pt 5: writing to the enterprise, its contact person, closing --------------------------


async def test_writing_to_the_enterprise_from_the_case_page(routing: Any, ane_case: str) -> None:
    url = f"/sager/{ane_case}"
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        assert "Skriv til virksomheden" in (await client.get(url)).text
        assert await post(client, f"{url}/skriv", {"subject_line": "", "body": "Hej"}) == (
            "Skriv et emne til beskeden."
        )
        sent = await post(
            client,
            f"{url}/skriv",
            {"subject_line": "Møde om løntilskud", "body": "Hej Aase\nSkal vi mødes tirsdag?"},
        )
        assert sent == "Beskeden er sendt til virksomheden."
    (message,) = await routing.events(ane_case, MessageToEnterprise)
    assert message.data.subject_line == "Møde om løntilskud"
    assert message.data.contact.email == "aase@kaffeogomsorg.example"
    assert message.data.consultant.id == "ane-kjaer"
    assert message.data.reference == "H-T0000001"
    entry = (await routing.case(ane_case))["timeline"][-1]
    assert entry["kind"] == "message_to_enterprise"
    assert "»Møde om løntilskud«" in entry["text"]
    # No contact e-mail any more (past the deletion deadline): refused, clearly.
    await routing.cases.update_one(
        {"_id": ane_case}, {"$set": {"contact.email": None, "contact.name": "[anonymiseret]"}}
    )
    with pytest.raises(InvalidInput, match="ingen e-mailadresse"):
        await routing.use.casework.write_to_enterprise(ane_case, ANE, "Emne", "Hej")


async def test_correcting_the_contact_person(routing: Any, ane_case: str) -> None:
    url = f"/sager/{ane_case}"
    form = {
        "name": "Aase Holm",
        "email": "aase.holm@nyt.example",
        "phone": "12 34 56 78",
        "preferred_language": "en",
    }
    before = (await routing.case(ane_case))["contact"]
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        assert await post(client, f"{url}/kontakt", {**form, "email": "nej"}) == (
            "E-mailadressen er ikke gyldig."
        )
        changed = await post(client, f"{url}/kontakt", form)
        assert changed.startswith("Kontaktoplysningerne er rettet (")
        assert "e-mail" in changed
        html = (await client.get(url)).text
        assert "aase.holm@nyt.example" in html
    case = await routing.case(ane_case)
    assert case["contact"]["email"] == "aase.holm@nyt.example"
    assert case["contact"]["preferred_language"] == "en"
    assert case["contact"]["phone"] == "+4512345678"
    assert case["inquiries"][0]["contact"] == before  # what the inquiry said stays
    assert "aase.holm@nyt.example" in case["search_terms"]  # found by the new e-mail
    found = await routing.use.ctx.cases.with_term("aase.holm@nyt.example")
    assert [c["_id"] for c in found] == [ane_case]
    (event,) = await routing.events(ane_case, CaseContactChanged)
    assert event.data.contact.email == "aase.holm@nyt.example"
    assert event.data.changed_by == "ane-kjaer"
    entry = case["timeline"][-1]
    assert entry["kind"] == "contact_changed"
    assert entry["text"].startswith("Kontaktoplysningerne er rettet af Ane Kjær: ")
    assert "e-mail" in entry["text"]
    assert before["email"] not in entry["text"]  # which fields, not the old values


async def test_closing_tells_the_enterprise_why(routing: Any, ane_case: str) -> None:
    use = routing.use
    await use.casework.close(ane_case, ANE, "Afklaret; ingen videre behov.", "I har fået svar.")
    (closed,) = await routing.events(ane_case, CaseStatusChanged)
    assert closed.data.message_to_enterprise == "I har fået svar."
    await use.casework.reopen(ane_case, ANE)
    await use.casework.close(ane_case, ANE, "Virksomheden bad selv om at lukke.")
    last = (await routing.events(ane_case, CaseStatusChanged))[-1]
    assert last.data.message_to_enterprise is None


# --- pt 6 and 7: the referral's line for the enterprise; the public guide page --------------


async def test_the_enterprise_gets_its_own_line_not_the_purpose(
    routing: Any, ane_case: str
) -> None:
    url = f"/sager/{ane_case}"
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        html = (await client.get(url)).text
        assert "Det får virksomheden at vide" in html
        assert "Formålet sendes kun til modtageren. Virksomheden ser det ikke." in html
        sent = await post(
            client,
            f"{url}/henvisninger",
            {
                "department": "job_centre",
                "purpose": "Intern vurdering af to ledige med skånehensyn.",
                "message_to_enterprise": "Jobcentret kontakter jer om løntilskud.",
                "response_due": (today(routing) + timedelta(days=5)).isoformat(),
                "consent": "ja",
            },
        )
        assert sent == "Henvisningen er sendt."
        assert "Virksomheden fik at vide:" in (await client.get(url)).text
    (made,) = await routing.events(ane_case, ReferralMade)
    assert made.data.message_to_enterprise == "Jobcentret kontakter jer om løntilskud."
    assert made.data.purpose == "Intern vurdering af to ledige med skånehensyn."
    assert (await routing.case(ane_case))["referrals"][0]["message_to_enterprise"] == (
        "Jobcentret kontakter jer om løntilskud."
    )


def test_shared_entries_link_to_the_public_guide_page() -> None:
    from indgang_routing.adapters.guide import GuideClient

    client = GuideClient("http://guide.internal:8004", 1.0, public_url="https://ikast.example/")
    assert client.public_page_url("løntilskud") == "https://ikast.example/hjaelp/l%C3%B8ntilskud"
    assert GuideClient("http://g:8004/", 1.0).public_page_url("a") == "http://g:8004/hjaelp/a"
