"""Issue 14 on the case through the use cases (`handlers/social_value.py`), on a fake store
and on the real one, and through the console's forms and the staff API: social-value
outcomes (recorded, repeated, corrected, withdrawn) and the RSV readiness checklist, each
stored with its event in the case's outbox and its timeline entry in one write."""

from __future__ import annotations

import copy
import html as htmllib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from indgang_contracts.envelope import Record, decode
from indgang_contracts.events import (
    CaseOutcomeRecorded,
    RsvCriterion,
    RsvCriterionStatus,
    RsvReadinessChanged,
)
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import CaseNotFound, Conflict, NotAllowed, NotFound
from indgang_routing.domain.social_value import FieldErrors, Outcome
from indgang_routing.handlers.context import Context
from indgang_routing.handlers.social_value import SocialValue

ANE = Actor(id="ane-kjaer", name="Ane Kjær", consultant_id="ane-kjaer")
BJARNE = Actor(id="bjarne-holm", name="Bjarne Holm", consultant_id="bjarne-holm")
LEAD = Actor(id="teamleder", name="Tove Teamleder", consultant_id=None, team_lead=True)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TODAY = date(2026, 12, 2)
MET = {c: RsvCriterionStatus.MET for c in RsvCriterion}


# --- a fake store: the use cases need only a case by id and one conditional write ------------


class FakeCases:
    """`CaseRepository.get` and `.change` in memory (the events kept as the outbox)."""

    def __init__(self, *cases: dict[str, Any]) -> None:
        self.docs = {c["_id"]: c for c in cases}
        self.writes = 0

    async def get(self, case_id: str) -> dict[str, Any] | None:
        found = self.docs.get(case_id)
        return copy.deepcopy(found) if found else None

    async def change(
        self,
        case_id: str,
        *,
        expect: Mapping[str, Any],
        now: datetime,
        set_: Mapping[str, Any] | None = None,
        push: Mapping[str, Any] | None = None,
        events: Sequence[Record] = (),
    ) -> bool:
        doc = self.docs.get(case_id)
        if doc is None or any(doc.get(k) != v for k, v in expect.items()):
            return False
        doc.update(copy.deepcopy(dict(set_ or {})), updated_at=now)
        for key, value in (push or {}).items():
            doc.setdefault(key, []).extend(
                value.get("$each", [value]) if "$each" in value else [value]
            )
        doc.setdefault("outbox", []).extend(events)
        self.writes += 1
        return True

    def events(self, case_id: str) -> list[Any]:
        return [
            decode([(k, v.encode()) for k, v in r.headers.items()], r.value).data
            for r in self.docs[case_id].get("outbox", [])
        ]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fake_case(case_id: str = "c-1", owner: str = "ane-kjaer") -> dict[str, Any]:
    return {
        "_id": case_id,
        "municipality_code": "756",
        "reference": "H-0000001",
        "organisation_key": "cvr:35954716",
        "consultant": {"id": owner, "name": "Ane Kjær"},
        "status": "closed",  # social value is recorded after closing too
        "created_at": datetime(2026, 11, 1, 9, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 1, 9, tzinfo=UTC),
        "timeline": [],
    }


@pytest.fixture
def fake() -> tuple[SocialValue, FakeCases, Clock]:
    cases, clock = FakeCases(fake_case()), Clock(NOW)
    ctx = Context(
        cases=cast(Any, cases),
        team=cast(Any, None),
        providers=cast(Any, None),
        organisations=cast(Any, None),
        jobs=cast(Any, None),
        settings=cast(Any, SimpleNamespace(event_source="/indgang/routing")),
        clock=clock,
    )
    return SocialValue(ctx), cases, clock


async def test_an_outcome_recorded_repeated_corrected_and_withdrawn_on_the_fake_store(
    fake: tuple[SocialValue, FakeCases, Clock],
) -> None:
    social, cases, clock = fake
    two = Outcome(occurred_on=date(2026, 11, 20), wage_subsidy_hires=2, supplier_agreements=1)
    outcome_id, change = await social.record_outcome("c-1", ANE, two, "o-1")
    assert (outcome_id, change) == ("o-1", "recorded")
    # The same form again (it carries its id): nothing stored, nothing published.
    assert await social.record_outcome("c-1", ANE, two, "o-1") == ("o-1", "unchanged")
    assert cases.writes == 1
    clock.now = NOW - timedelta(seconds=30)  # a clock behind: the correction is still later
    corrected = Outcome(occurred_on=date(2026, 11, 20), wage_subsidy_hires=1, flex_jobs=1)
    assert await social.record_outcome("c-1", LEAD, corrected, "o-1") == ("o-1", "corrected")
    assert await social.withdraw_outcome("c-1", ANE, "o-1") == "withdrawn"
    assert await social.withdraw_outcome("c-1", ANE, "o-1") == "unchanged"
    with pytest.raises(Conflict):
        await social.record_outcome("c-1", ANE, two, "o-1")
    with pytest.raises(NotFound):
        await social.withdraw_outcome("c-1", ANE, "o-unknown")
    with pytest.raises(NotAllowed):
        await social.record_outcome("c-1", BJARNE, two)
    with pytest.raises(CaseNotFound):
        await social.record_outcome("c-x", ANE, two)
    with pytest.raises(FieldErrors):
        await social.record_outcome("c-1", ANE, Outcome(occurred_on=TODAY + timedelta(days=1)))

    events = cases.events("c-1")
    assert [type(e) for e in events] == [CaseOutcomeRecorded] * 3
    first, second, third = events
    assert {e.outcome_id for e in events} == {"o-1"}
    assert first.recorded_at < second.recorded_at < third.recorded_at
    assert (first.wage_subsidy_hires, second.flex_jobs, third.withdrawn) == (2, 1, True)
    assert second.recorded_by == "teamleder"
    assert first.consultant_id == "ane-kjaer"
    assert first.organisation_key == "cvr:35954716"
    doc = cases.docs["c-1"]
    (stored,) = doc["outcomes"]
    assert stored["withdrawn"]
    assert stored["recorded_by_name"] == "Ane Kjær"
    assert [e["kind"] for e in doc["timeline"]] == ["outcome"] * 3
    assert "Tove Teamleder har rettet registreringen" in doc["timeline"][1]["text"]


async def test_the_rsv_checklist_on_the_fake_store_publishes_each_change_once(
    fake: tuple[SocialValue, FakeCases, Clock],
) -> None:
    social, cases, clock = fake
    changes = await social.change_rsv_readiness(
        "c-1", ANE, {RsvCriterion.SOCIAL_PURPOSE: RsvCriterionStatus.MET}, {}, None
    )
    assert changes == ["Socialt formål: opfyldt (før: ved ikke)"]
    assert (
        await social.change_rsv_readiness(
            "c-1", ANE, {RsvCriterion.SOCIAL_PURPOSE: RsvCriterionStatus.MET}, {}, None
        )
        == []
    )
    clock.now = NOW + timedelta(minutes=5)
    await social.change_rsv_readiness("c-1", ANE, MET, {}, TODAY)
    first, second = cases.events("c-1")
    assert isinstance(first, RsvReadinessChanged)
    assert not first.ready
    assert second.ready
    assert second.registered
    assert second.registered_on == TODAY
    assert second.changed_at > first.changed_at
    assert cases.docs["c-1"]["rsv"]["registered_on"] == TODAY.isoformat()
    with pytest.raises(NotAllowed):
        await social.change_rsv_readiness("c-1", BJARNE, MET, {}, None)


async def test_a_write_that_lost_the_race_changes_nothing(
    fake: tuple[SocialValue, FakeCases, Clock],
) -> None:
    social, cases, _ = fake
    original = cases.get

    async def stale(case_id: str) -> dict[str, Any] | None:
        found = await original(case_id)
        assert found is not None
        found["updated_at"] = NOW - timedelta(days=1)  # someone wrote since it was read
        return found

    cases.get = stale  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        await social.record_outcome("c-1", ANE, Outcome(occurred_on=TODAY, flex_jobs=1))
    assert cases.events("c-1") == []


# --- the real store, the console and the API -------------------------------------------------


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


@pytest.fixture
async def ane_case(routing: Any) -> str:
    return str(await routing.use.routing.route_inquiry(routing.inquiry(1)))


async def test_outcomes_and_the_checklist_on_the_real_store(routing: Any, ane_case: str) -> None:
    social: SocialValue = routing.use.social_value
    today = routing.use.ctx.local_day(routing.use.ctx.now())
    outcome = Outcome(occurred_on=today, ordinary_hires=1, rsv_registration_helped=True)
    outcome_id, _ = await social.record_outcome(ane_case, ANE, outcome)
    assert await social.record_outcome(ane_case, ANE, outcome, outcome_id) == (
        outcome_id,
        "unchanged",
    )
    await social.change_rsv_readiness(ane_case, ANE, MET, {}, None)
    recorded, rsv = (
        await routing.events(ane_case, CaseOutcomeRecorded),
        await routing.events(ane_case, RsvReadinessChanged),
    )
    assert [e.data.outcome_id for e in recorded] == [outcome_id]
    assert recorded[0].data.ordinary_hires == 1
    assert recorded[0].data.reference == "H-T0000001"
    assert rsv[0].data.ready
    assert not rsv[0].data.registered
    case = await routing.case(ane_case)
    assert case["outcomes"][0]["id"] == outcome_id
    assert case["rsv"]["criteria"]["independence"] == "met"
    assert [e["kind"] for e in case["timeline"][-2:]] == ["outcome", "rsv"]
    # Each timeline entry names the event that told the world.
    assert case["timeline"][-1]["event_id"] == rsv[0].id


async def test_the_console_forms(routing: Any, ane_case: str) -> None:
    url = f"/sager/{ane_case}"
    today = routing.use.ctx.local_day(routing.use.ctx.now()).isoformat()
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        page = (await client.get(url)).text
        assert "Der er ikke registreret social værdi på sagen endnu." in page
        assert "lov nr. 711 af 25. juni 2014" in page
        assert "se lovens § 5" in page
        assert "0 af 5 kriterier opfyldt" in page
        form_id = re.search(r'name="outcome_id" value="([^"]+)"', page)
        assert form_id is not None
        form = {
            "outcome_id": form_id.group(1),
            "wage_subsidy_hires": "2",
            "flex_jobs": "",
            "social_clauses": "1",
            "occurred_on": today,
        }
        assert await post(client, f"{url}/social-vaerdi", form) == (
            "Den sociale værdi er registreret."
        )
        assert await post(client, f"{url}/social-vaerdi", form) == (
            "Registreringen var allerede gemt; intet er ændret."
        )
        assert await post(client, f"{url}/social-vaerdi", {**form, "flex_jobs": "x"}) == (
            "Angiv antal ansat i fleksjob som et helt tal (0 eller flere)."
        )
        assert await post(client, f"{url}/social-vaerdi", {**form, "flex_jobs": "1"}) == (
            "Registreringen er rettet."
        )
        page = (await client.get(url)).text
        assert "I alt på sagen:</strong> 3 ansat gennem virksomheden" in page
        assert "2 ansat med løntilskud, 1 ansat i fleksjob" in htmllib.unescape(page)
        assert await post(
            client, f"{url}/social-vaerdi/tilbagetraek", {"outcome_id": form["outcome_id"]}
        ) == ("Registreringen er trukket tilbage.")
        assert "Trukket tilbage" in (await client.get(url)).text

        rsv = {f"status_{c.value}": "met" for c in RsvCriterion}
        rsv["status_independence"] = "not_yet"
        rsv["note_independence"] = "Kommunen sidder i bestyrelsen; tjek vedtægterne."
        assert await post(client, f"{url}/rsv", rsv) == "RSV-tjeklisten er gemt."
        assert await post(client, f"{url}/rsv", rsv) == "RSV-tjeklisten er uændret."
        page = htmllib.unescape((await client.get(url)).text)
        assert "4 af 5 kriterier opfyldt" in page
        assert "Kommunen sidder i bestyrelsen" in page
        done = {**rsv, "status_independence": "met", "registered": "1", "registered_on": today}
        assert await post(client, f"{url}/rsv", done) == "RSV-tjeklisten er gemt."
        page = (await client.get(url)).text
        assert "Registreret som RSV" in page
        missing = {k: v for k, v in rsv.items() if k != "status_social_purpose"}
        assert "Vælg for »Socialt formål«" in await post(client, f"{url}/rsv", missing)
    events = await routing.events(ane_case, RsvReadinessChanged)
    assert [(e.data.ready, e.data.registered) for e in events] == [(False, False), (True, True)]
    assert len(await routing.events(ane_case, CaseOutcomeRecorded)) == 3


async def test_the_staff_api(routing: Any, ane_case: str) -> None:
    base = f"/api/v1/cases/{ane_case}"
    async with routing.client() as client:
        await login(client, "ane-kjaer")
        created = await client.post(f"{base}/outcomes", json={"flex_jobs": 1})
        assert created.status_code == 201, created.text
        assert created.json()["result"] == "recorded"
        mine = f"{base}/outcomes/my-own-id-1"
        today = routing.use.ctx.local_day(routing.use.ctx.now())
        body = {"wage_subsidy_hires": 2, "occurred_on": today.isoformat()}
        wrong = await client.put(mine, json={**body, "occurred_on": "2999-01-01"})
        assert wrong.status_code == 422
        assert wrong.json()["detail"][0]["loc"] == ["body", "occurred_on"]
        negative = await client.put(mine, json={"flex_jobs": -1})
        assert negative.json()["detail"][0]["loc"] == ["body", "flex_jobs"]
        empty = await client.put(mine, json={})
        assert empty.status_code == 422
        assert empty.json()["detail"][0]["loc"] == ["body", "wage_subsidy_hires"]
        assert (await client.put(mine, json=body)).json()["result"] == "recorded"
        assert (await client.put(mine, json=body)).json()["result"] == "unchanged"
        fixed = await client.put(mine, json={**body, "wage_subsidy_hires": 3})
        assert fixed.json()["result"] == "corrected"
        assert (await client.delete(mine)).json()["result"] == "withdrawn"
        assert (await client.delete(mine)).json()["result"] == "unchanged"
        assert (await client.delete(f"{base}/outcomes/nope")).status_code == 404
        assert (await client.put(mine, json=body)).status_code == 409

        rsv = f"{base}/rsv-readiness"
        answer = await client.patch(
            rsv, json={"criteria": {"social_purpose": {"status": "met", "note": "Vedtægter §2"}}}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["criteria"]["social_purpose"] == "met"
        assert answer.json()["criteria"]["independence"] == "unknown"
        assert answer.json()["changed"]
        again = await client.patch(rsv, json={"criteria": {"social_purpose": {"status": "met"}}})
        assert again.json()["changed"] == []
        bad = await client.patch(rsv, json={"criteria": {"purpose": {"status": "met"}}})
        assert bad.status_code == 422
        long = await client.patch(rsv, json={"criteria": {"independence": {"note": "x" * 2001}}})
        assert long.status_code == 422
        future = await client.patch(rsv, json={"registered_on": "2999-01-01"})
        assert future.json()["detail"][0]["loc"] == ["body", "registered_on"]
        everything = {c.value: {"status": "met"} for c in RsvCriterion}
        done = await client.patch(
            rsv, json={"criteria": everything, "registered_on": today.isoformat()}
        )
        assert done.json()["ready"] is True
        assert done.json()["registered_on"] == today.isoformat()
        # Absent registered_on keeps it; null removes it.
        kept = await client.patch(rsv, json={"criteria": {"independence": {"note": "ok"}}})
        assert kept.json()["registered_on"] == today.isoformat()
        removed = await client.patch(rsv, json={"registered_on": None})
        assert removed.json()["registered_on"] is None
        shown = (await client.get(base)).json()
        assert shown["rsv"]["notes"]["independence"] == "ok"
        assert len(shown["outcomes"]) == 2

        await client.post("/auth/logout")
        await login(client, "bjarne-holm")  # not his case
        assert (await client.post(f"{base}/outcomes", json={"flex_jobs": 1})).status_code == 403
        assert (await client.patch(rsv, json={})).status_code == 403
        assert (await client.delete(mine)).status_code == 403

    async with routing.client() as anonymous:
        for method, url in (
            ("POST", f"{base}/outcomes"),
            ("PUT", f"{base}/outcomes/x"),
            ("DELETE", f"{base}/outcomes/x"),
            ("PATCH", rsv),
        ):
            api = await anonymous.request(method, url, headers={"accept": "application/json"})
            assert api.status_code == 401, (method, url)
        for path in ("social-vaerdi", "social-vaerdi/tilbagetraek", "rsv"):
            page = await anonymous.post(
                f"/sager/{ane_case}/{path}", headers={"accept": "text/html"}
            )
            assert page.status_code == 303
            assert page.headers["location"].startswith("/auth/login")
