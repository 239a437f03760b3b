"""Routing's subscribers and use cases with FastStream's TestKafkaBroker and the real store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from indgang_contracts.envelope import encode
from indgang_contracts.events import (
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    ContactChannel,
    Department,
    FirstContactOverdue,
    ReferralMade,
    ReferralOutcome,
    ReferralStatus,
    ReferralTarget,
    ReferralUpdated,
    RoutingReason,
)
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.calendar import COPENHAGEN
from indgang_routing.domain.case import case_id_for
from indgang_routing.domain.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    ReferralNotFound,
)
from indgang_routing.domain.referrals import ReferralRequest
from indgang_routing.handlers.loads import Loads
from indgang_runtime.auth import DepartmentSystem

ANE = Actor(id="ane-kjaer", name="Ane Kjær", consultant_id="ane-kjaer")
BJARNE = Actor(id="bjarne-holm", name="Bjarne Holm", consultant_id="bjarne-holm")
LEAD = Actor(id="teamleder", name="Tove Leth", consultant_id=None, team_lead=True)


@pytest.fixture
async def kafka(routing: Any) -> AsyncIterator[tuple[Any, list[KafkaMessage]]]:
    broker = routing.app.state.runtime.broker
    dead: list[KafkaMessage] = []

    @broker.subscriber("indgang.dead-letter.v1")
    async def capture(message: KafkaMessage) -> None:
        dead.append(message)

    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, dead


async def publish(broker: Any, event: Any, **envelope: Any) -> None:
    record = encode(event, source="/test", **envelope)
    await broker.publish(
        record.value, record.topic, key=record.key.encode(), headers=record.headers
    )


def referral_request(department: Department = Department.JOB_CENTRE, **kw: Any) -> ReferralRequest:
    values: dict[str, Any] = {
        "target": ReferralTarget(department=department),
        "purpose": "Afklaring af løntilskud til to ledige.",
        "needs": [],
        "response_due": date(2026, 12, 14),
        "consent_to_share_contact": True,
        **kw,
    }
    return ReferralRequest(**values)


async def test_on_inquiry_received_stores_case_with_case_routed_in_outbox(
    routing: Any, kafka: tuple[Any, list[KafkaMessage]]
) -> None:
    broker, _ = kafka
    for _ in range(2):  # redelivered: still one case, one event
        await publish(broker, INQUIRY_RECEIVED, event_id="same-record")
    case = await routing.case(case_id_for(INQUIRY_RECEIVED.inquiry_id))
    assert case["consultant"]["id"] == "ane-kjaer"
    assert case["status"] == "assigned"
    assert case["open_slot"] == INQUIRY_RECEIVED.organisation_key
    assert case["outbox_pending"] == 1
    (event,) = await routing.events(case["_id"])
    assert event.type == "dk.indgang.case-routed.v1"
    assert event.data.inquiry_id == INQUIRY_RECEIVED.inquiry_id
    assert event.data.reason is RoutingReason.EXPERTISE
    assert [e["kind"] for e in case["timeline"]] == ["routed"]
    assert case["timeline"][0]["event_id"] == event.id
    assert await routing.cases.count_documents({}) == 1


async def test_invalid_event_is_dead_lettered_not_stored(
    routing: Any, kafka: tuple[Any, list[KafkaMessage]]
) -> None:
    broker, dead = kafka
    record = encode(INQUIRY_RECEIVED, source="/test")
    body = json.loads(record.value)
    del body["organisation"]
    await broker.publish(
        json.dumps(body).encode(), record.topic, key=record.key.encode(), headers=record.headers
    )
    assert await routing.cases.count_documents({}) == 0
    assert len(dead) == 1


async def test_follow_up_joins_the_open_case_with_the_same_consultant(
    routing: Any, kafka: tuple[Any, list[KafkaMessage]]
) -> None:
    broker, _ = kafka
    first = routing.inquiry(1)
    follow_up = routing.inquiry(2, needs=["funding_and_support"], follow_up_of=first.inquiry_id)
    await publish(broker, first)
    for _ in range(2):  # the follow-up redelivered: attached once
        await publish(broker, follow_up, event_id="follow-up-record")
    (case,) = await routing.cases.find({}).to_list()
    assert case["inquiry_ids"] == [first.inquiry_id, follow_up.inquiry_id]
    assert case["needs"] == [*[n.value for n in first.needs], "funding_and_support"]
    routed = await routing.events(case["_id"], CaseRouted)
    assert [e.data.inquiry_id for e in routed] == [first.inquiry_id, follow_up.inquiry_id]
    again = routed[1].data
    assert (again.reason, again.previous_consultant_id) == (RoutingReason.CONTINUITY, None)
    assert again.consultant == routed[0].data.consultant
    assert again.reference == "H-T0000002"
    # Published as a follow-up under the case's one reference: no "new case" mail.
    assert (routed[0].data.follow_up, routed[0].data.case_reference) == (False, None)
    assert (again.follow_up, again.case_reference) == (True, case["reference"])
    assert case["reference"] == first.reference
    assert [e["kind"] for e in case["timeline"]] == ["routed", "inquiry_added"]


async def test_after_closing_a_new_inquiry_opens_a_new_case_with_continuity(
    routing: Any,
) -> None:
    use = routing.use
    first = await use.routing.route_inquiry(routing.inquiry(1, needs=["business_development"]))
    owner = (await routing.case(first))["consultant"]["id"]
    await use.casework.close(first, LEAD, "Afklaret.")
    second = await use.routing.route_inquiry(routing.inquiry(2, needs=["legislation"]))
    assert second != first
    new = await routing.case(second)
    assert new["consultant"]["id"] == owner
    assert new["routing"]["reason"] == "continuity"
    # The old case cannot be reopened while the organisation has this open one.
    with pytest.raises(Conflict, match=r"allerede en åben sag \(H-T0000002\)"):
        await use.casework.reopen(first, LEAD)
    await use.casework.close(second, LEAD, "Færdig.")
    assert await use.casework.reopen(first, LEAD) is CaseStatus.ASSIGNED


async def test_lifecycle_is_stored_published_and_on_the_timeline(routing: Any) -> None:
    use = routing.use
    case_id = await use.routing.route_inquiry(routing.inquiry(1))
    with pytest.raises(InvalidTransition, match="Registrér første kontakt"):
        await use.casework.wait(case_id, ANE)
    # Danish dates, as the console uses (the machine's date differs around midnight).
    today = routing.use.ctx.local_day(datetime.now(UTC))
    with pytest.raises(NotAllowed):
        await use.casework.log_first_contact(case_id, BJARNE, ContactChannel.PHONE, today)
    with pytest.raises(InvalidInput, match="fremtiden"):
        await use.casework.log_first_contact(
            case_id, ANE, ContactChannel.PHONE, today + timedelta(days=2)
        )
    assert await use.casework.log_first_contact(case_id, ANE, ContactChannel.PHONE, today) is (
        CaseStatus.IN_PROGRESS
    )
    with pytest.raises(InvalidTransition, match="allerede registreret"):
        await use.casework.log_first_contact(case_id, ANE, ContactChannel.EMAIL, today)
    assert await use.casework.wait(case_id, ANE) is CaseStatus.WAITING
    assert await use.casework.resume(case_id, ANE) is CaseStatus.IN_PROGRESS
    with pytest.raises(InvalidInput, match="udfald"):
        await use.casework.close(case_id, ANE, "  ")
    assert await use.casework.close(case_id, ANE, "Ansat to i løntilskud.") is CaseStatus.CLOSED
    with pytest.raises(InvalidTransition, match="allerede lukket"):
        await use.casework.close(case_id, ANE, "igen")
    assert await use.casework.reopen(case_id, ANE) is CaseStatus.IN_PROGRESS

    changes = [e.data for e in await routing.events(case_id, CaseStatusChanged)]
    assert [(c.previous_status, c.status) for c in changes] == [
        (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS),
        (CaseStatus.IN_PROGRESS, CaseStatus.WAITING),
        (CaseStatus.WAITING, CaseStatus.IN_PROGRESS),
        (CaseStatus.IN_PROGRESS, CaseStatus.CLOSED),
        (CaseStatus.CLOSED, CaseStatus.IN_PROGRESS),
    ]
    assert changes[0].first_contact_channel is ContactChannel.PHONE
    assert changes[3].outcome == "Ansat to i løntilskud."
    assert changes[4].reopened
    assert {c.consultant_id for c in changes} == {"ane-kjaer"}
    case = await routing.case(case_id)
    assert case["open_slot"] == case["organisation_key"]
    texts = [e["text"] for e in case["timeline"]]
    assert texts[1].startswith("Første kontakt er registreret: telefon")
    assert texts[4] == (
        "Sagen er lukket. Udfald: Ansat to i løntilskud. Virksomheden får ikke besked om lukningen."
    )
    assert texts[5] == "Sagen er genåbnet."


def noon_on(day: date) -> datetime:
    """A moment on that Danish day (the clock the overdue job runs on in these tests)."""
    return datetime.combine(day, time(12), COPENHAGEN)


async def move_due_day(routing: Any, case_id: str, day: date) -> None:
    """As a write that moves a watched case's due day must: the watch moves with it."""
    await routing.cases.update_one(
        {"_id": case_id},
        {"$set": {"first_contact_due": day.isoformat(), "overdue_watch": day.isoformat()}},
    )


async def finished_through(routing: Any) -> str:
    state = await routing.db["jobs"].find_one({"_id": "first-contact-overdue"})
    assert state is not None
    return str(state["finished_through"])


async def test_overdue_first_contact_is_published_once(routing: Any) -> None:
    """A case due yesterday and not contacted is reported once, also by three instances
    at once; a case contacted in time is not; one whose due day was moved later is
    reported after that day."""
    use = routing.use
    overdue = use.casework.overdue
    today = use.ctx.local_day(use.ctx.now())
    late = await use.routing.route_inquiry(routing.inquiry(1))
    on_time = await use.routing.route_inquiry(routing.inquiry(2, organisation_key="cvr:12345674"))
    moved = await use.routing.route_inquiry(routing.inquiry(3, organisation_key="cvr:87654321"))
    due = date.fromisoformat((await routing.case(late))["first_contact_due"])
    await use.casework.log_first_contact(on_time, ANE, ContactChannel.PHONE, today)
    assert (await routing.case(on_time))["overdue_watch"] is False
    await move_due_day(routing, moved, due + timedelta(days=1))
    assert await overdue.report() == 0  # nothing due yet
    assert await finished_through(routing) == (today - timedelta(days=2)).isoformat()

    use.ctx.clock = lambda: noon_on(due + timedelta(days=1))
    results = await asyncio.gather(*(overdue.report() for _ in range(3)))
    assert sum(results) == 1  # three concurrent runs (as of several instances): one event
    assert await overdue.report() == 0
    (event,) = await routing.events(late, FirstContactOverdue)
    assert event.data.first_contact_due == due
    assert event.data.team_lead_email == "teamleder@kommune.example"
    assert event.data.consultant.id == "ane-kjaer"
    assert (await routing.case(late))["timeline"][-1]["kind"] == "overdue"
    assert (await routing.case(late))["overdue_watch"] is False
    assert await routing.events(on_time, FirstContactOverdue) == []
    assert await routing.events(moved, FirstContactOverdue) == []
    # Every day up to the day before yesterday is finished; yesterday is read again.
    assert await finished_through(routing) == (due - timedelta(days=1)).isoformat()

    use.ctx.clock = lambda: noon_on(due + timedelta(days=2))
    assert await overdue.report() == 1
    assert len(await routing.events(moved, FirstContactOverdue)) == 1
    assert await overdue.report() == 0


async def test_a_case_reopened_after_its_due_day_is_reported_in_the_reopening(
    routing: Any,
) -> None:
    """The overdue job has finished its due day, so the reopening reports it, once."""
    use = routing.use
    case_id = await use.routing.route_inquiry(routing.inquiry(1))
    await use.casework.close(case_id, ANE, "Ingen kontakt.")
    due = date.fromisoformat((await routing.case(case_id))["first_contact_due"])
    use.ctx.clock = lambda: noon_on(due + timedelta(days=5))
    assert await use.casework.overdue.report() == 0  # closed: nothing to report
    assert await use.casework.reopen(case_id, ANE) is CaseStatus.ASSIGNED
    case = await routing.case(case_id)
    assert [e["kind"] for e in case["timeline"]][-1] == "overdue"
    assert case["overdue_watch"] is False
    assert case["overdue_reported_at"] is not None
    (event,) = await routing.events(case_id, FirstContactOverdue)
    assert event.data.first_contact_due == due
    assert await use.casework.overdue.report() == 0
    # Closed and reopened again: reported already, so never again.
    await use.casework.close(case_id, ANE, "Ingen kontakt.")
    await use.casework.reopen(case_id, ANE)
    assert len(await routing.events(case_id, FirstContactOverdue)) == 1


async def test_the_overdue_job_starts_from_the_earliest_watched_due_day(routing: Any) -> None:
    """On a store without the job's progress: its first round finds the earliest due day among
    the watched cases; a tick reads at most a month of days, the next goes on. A store
    that lost its progress document looks back a month."""
    use = routing.use
    overdue = use.casework.overdue
    today = use.ctx.local_day(use.ctx.now())
    old = await use.routing.route_inquiry(routing.inquiry(1))
    recent = await use.routing.route_inquiry(routing.inquiry(2, organisation_key="cvr:12345674"))
    long_ago = today - timedelta(days=40)
    await move_due_day(routing, old, long_ago)
    await move_due_day(routing, recent, today - timedelta(days=5))
    await routing.db["jobs"].delete_many({})
    await overdue.prepare()
    assert await finished_through(routing) == (long_ago - timedelta(days=1)).isoformat()
    await overdue.prepare()  # started already: unchanged
    assert await finished_through(routing) == (long_ago - timedelta(days=1)).isoformat()
    assert await overdue.report() == 1  # the oldest month
    assert await finished_through(routing) == (long_ago + timedelta(days=30)).isoformat()
    assert await overdue.report() == 1
    assert await finished_through(routing) == (today - timedelta(days=2)).isoformat()
    assert len(await routing.events(old, FirstContactOverdue)) == 1
    assert len(await routing.events(recent, FirstContactOverdue)) == 1

    lost = await use.routing.route_inquiry(routing.inquiry(3, organisation_key="cvr:87654321"))
    await move_due_day(routing, lost, today - timedelta(days=20))
    await routing.db["jobs"].delete_many({})
    assert await overdue.report() == 1
    assert await finished_through(routing) == (today - timedelta(days=2)).isoformat()


async def test_referral_answers_from_kafka_are_applied_once(
    routing: Any, kafka: tuple[Any, list[KafkaMessage]]
) -> None:
    broker, dead = kafka
    use = routing.use
    case_id = await use.routing.route_inquiry(routing.inquiry(1))
    referral_id = await use.referrals.make(case_id, referral_request(), ANE)
    (made,) = await routing.events(case_id, ReferralMade)
    assert made.data.contact is not None

    answered_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    accepted = ReferralUpdated(
        municipality_code="756",
        referral_id=referral_id,
        case_id=case_id,
        status=ReferralStatus.ACCEPTED,
        answered_by=Department.JOB_CENTRE,
        answered_at=answered_at,
    )
    for _ in range(2):  # redelivered
        await publish(broker, accepted, event_id="answer-1")
    # The same answer again under a new event id (a department system that re-sent it).
    await publish(broker, accepted, event_id="answer-1-resent")
    completed = accepted.model_copy(
        update={
            "status": ReferralStatus.COMPLETED,
            "outcome": ReferralOutcome(summary="To ansat i løntilskud.", wage_subsidy_hires=2),
        }
    )
    await publish(broker, completed, event_id="answer-2")
    assert dead == []
    case = await routing.case(case_id)
    (referral,) = case["referrals"]
    assert referral["status"] == "completed"
    assert [a["status"] for a in referral["answers"]] == ["accepted", "completed"]
    assert referral["answers"][1]["outcome"]["wage_subsidy_hires"] == 2
    assert [e["kind"] for e in case["timeline"]].count("referral_answer") == 2
    assert case["timeline"][-1]["text"] == (
        "Jobcentret har afsluttet henvisningen: To ansat i løntilskud. (2 ansat med løntilskud)"
    )
    assert case["consultant"]["id"] == "ane-kjaer"  # the consultant stays the owner
    # Events received are applied, not published again.
    assert await routing.events(case_id, ReferralUpdated) == []


async def test_answers_routing_cannot_apply_are_dead_lettered_with_the_reason(
    routing: Any, kafka: tuple[Any, list[KafkaMessage]]
) -> None:
    broker, dead = kafka
    use = routing.use
    case_id = await use.routing.route_inquiry(routing.inquiry(1))
    referral_id = await use.referrals.make(case_id, referral_request(), ANE)
    answer = ReferralUpdated(
        municipality_code="756",
        referral_id=referral_id,
        case_id=case_id,
        status=ReferralStatus.DECLINED,
        reason="Ingen ledige pladser.",
        answered_by=Department.JOB_CENTRE,
        answered_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    await publish(broker, answer.model_copy(update={"case_id": "no-such-case"}))
    await publish(broker, answer.model_copy(update={"referral_id": "no-such-referral"}))
    await publish(broker, answer.model_copy(update={"answered_by": Department.CSR}))
    await publish(broker, answer)
    await publish(broker, answer.model_copy(update={"status": ReferralStatus.ACCEPTED}))
    reasons = [m.headers["dlt_reason"] for m in dead]
    assert len(reasons) == 4, reasons
    assert "CaseNotFound" in reasons[0]
    assert "no-such-case" in reasons[0]
    assert "ReferralNotFound" in reasons[1]
    assert "NotAllowed" in reasons[2]
    assert "InvalidTransition" in reasons[3]
    assert "afvist" in reasons[3]
    (referral,) = (await routing.case(case_id))["referrals"]
    assert referral["status"] == "declined"


async def test_referral_rules(routing: Any) -> None:
    use = routing.use
    case_id = await use.routing.route_inquiry(routing.inquiry(1))
    with pytest.raises(InvalidInput, match="formålet"):
        await use.referrals.make(case_id, referral_request(purpose="  "), ANE)
    with pytest.raises(InvalidInput, match="udbyderlisten"):
        await use.referrals.make(
            case_id,
            referral_request(
                Department.OUTSIDE_PROVIDER,
                target=ReferralTarget(department=Department.OUTSIDE_PROVIDER, provider_id="x"),
            ),
            ANE,
        )
    provider = await use.referrals.make(
        case_id,
        referral_request(
            target=ReferralTarget(
                department=Department.OUTSIDE_PROVIDER, provider_id="mentorhuset"
            ),
            consent_to_share_contact=False,
        ),
        ANE,
    )
    (made,) = await routing.events(case_id, ReferralMade)
    assert made.data.referral_id == provider
    assert made.data.contact is None
    assert "ikke givet samtykke" in made.data.purpose
    case = await routing.case(case_id)
    assert case["referrals"][0]["target_name"] == "Mentorhuset Midt (eksempel)"
    assert case["timeline"][-1]["text"].startswith(
        "Henvist til Mentorhuset Midt (eksempel) uden kontaktoplysninger (intet samtykke)"
    )
    with pytest.raises(NotAllowed, match="anden afdelings"):
        await use.referrals.answer(
            provider, DepartmentSystem(Department.JOB_CENTRE), ReferralStatus.ACCEPTED, None, None
        )
    # Another provider's system: the referral does not exist for it (issue 12, finding 9).
    other = DepartmentSystem(Department.OUTSIDE_PROVIDER, "fondsraadgivning")
    with pytest.raises(ReferralNotFound, match=f"Henvisningen {provider} findes ikke."):
        await use.referrals.answer(provider, other, ReferralStatus.ACCEPTED, None, None)
    mentorhuset = DepartmentSystem(Department.OUTSIDE_PROVIDER, "mentorhuset")
    await use.referrals.answer(provider, mentorhuset, ReferralStatus.ACCEPTED, None, None)
    (answered,) = await routing.events(case_id, ReferralUpdated)
    assert (answered.data.answered_by, answered.data.answered_by_provider_id) == (
        Department.OUTSIDE_PROVIDER,
        "mentorhuset",
    )
    await use.casework.close(case_id, ANE, "Slut.")
    with pytest.raises(Conflict, match="lukket"):
        await use.referrals.make(case_id, referral_request(), ANE)


async def test_team_lead_moves_one_case_and_all_cases_of_a_leaver(routing: Any) -> None:
    use = routing.use
    ids = [
        await use.routing.route_inquiry(
            routing.inquiry(n, organisation_key=f"email:org{n}@example.dk", needs=["legislation"])
        )
        for n in range(1, 5)
    ]
    owners = {(await routing.case(i))["consultant"]["id"] for i in ids}
    assert owners == {"ane-kjaer"}  # legislation is Ane's
    moved = await use.routing.reassign(ids[0], "camilla-dahl", LEAD)
    assert moved.reason is RoutingReason.MANUAL
    with pytest.raises(Conflict, match="ejes allerede"):
        await use.routing.reassign(ids[0], "camilla-dahl", LEAD)
    last = (await routing.events(ids[0], CaseRouted))[-1].data
    assert (last.reason, last.previous_consultant_id) == (RoutingReason.MANUAL, "ane-kjaer")
    assert last.consultant.id == "camilla-dahl"

    await use.casework.close(ids[3], ANE, "Lukket før Ane stopper.")
    assert await use.team_admin.remove("ane-kjaer", None, LEAD) == 2
    for case_id in ids[1:3]:
        case = await routing.case(case_id)
        assert case["consultant"]["id"] in {"bjarne-holm", "camilla-dahl"}
        event = (await routing.events(case_id, CaseRouted))[-1].data
        assert (event.reason, event.previous_consultant_id) == (RoutingReason.MANUAL, "ane-kjaer")
        assert "Teamlederen har omfordelt sagen fra Ane Kjær" in event.explanation
    assert (await routing.case(ids[3]))["consultant"]["id"] == "ane-kjaer"  # history stays
    team = await use.ctx.team.load()
    assert team.get("ane-kjaer") is None
    assert team.require("bjarne-holm").deputy is None  # Ane was his deputy
    # A restart seeds the team file again: Ane stays removed.
    for hook in routing.app.state.runtime.on_startup:
        await hook()
    assert (await use.ctx.team.load()).get("ane-kjaer") is None
    # Reopening her closed case gives it a consultant who is on the team.
    await use.casework.reopen(ids[3], LEAD)
    reopened = await routing.case(ids[3])
    assert reopened["consultant"]["id"] != "ane-kjaer"
    assert "ikke længere på holdet" in reopened["routing"]["explanation"]
    await use.team_admin.remove("bjarne-holm", None, LEAD)
    with pytest.raises(Conflict, match="sidste konsulent"):
        await use.team_admin.remove("camilla-dahl", None, LEAD)


async def test_seeding_never_overwrites_the_team_leads_edits(routing: Any) -> None:
    use = routing.use
    ane = (await use.ctx.team.load()).require("ane-kjaer")
    await use.team_admin.save(replace(ane, capacity=3), new=False)
    today = use.ctx.local_day(use.ctx.now())
    await use.team_admin.add_absence("ane-kjaer", today, today + timedelta(days=10))
    for hook in routing.app.state.runtime.on_startup:
        await hook()
    again = (await use.ctx.team.load()).require("ane-kjaer")
    assert again.capacity == 3
    assert again.is_absent(today + timedelta(days=3))
    providers = await use.ctx.providers.all()
    assert "mentorhuset" in providers
    await use.team_admin.remove_provider("mentorhuset")
    for hook in routing.app.state.runtime.on_startup:
        await hook()
    assert "mentorhuset" not in await use.ctx.providers.all()


async def test_absences_that_ended_over_a_month_ago_go_when_one_is_added(
    routing: Any,
) -> None:
    """The team is read for every inquiry batch: its documents must not grow with every
    absence ever registered."""
    use = routing.use
    today = use.ctx.local_day(use.ctx.now())
    days = [today + timedelta(days=n) for n in (-90, -80, -40, -31, -30, -29, 5, 9)]
    old, recent, coming = (days[0], days[1]), (days[4], days[5]), (days[6], days[7])
    for start, end in (old, recent, (days[2], days[3])):
        await use.team_admin.add_absence("ane-kjaer", start, end)  # in the past: allowed
    ane = (await use.ctx.team.load()).require("ane-kjaer")
    assert [(a.start, a.end) for a in ane.absences] == [(days[2], days[3]), recent]
    await use.team_admin.add_absence("ane-kjaer", *coming)
    await use.team_admin.add_absence("ane-kjaer", *coming)  # twice: once
    ane = (await use.ctx.team.load()).require("ane-kjaer")
    assert [(a.start, a.end) for a in ane.absences] == [recent, coming]


async def test_concurrent_inquiries_of_one_organisation_make_one_case(routing: Any) -> None:
    """Two CaseRouting instances (separate store clients) race on one organisation."""
    other = routing.app.state.console.routing.__class__(
        replace_ctx_client(routing)  # a second instance's view of the same store
    )
    mine = routing.use.routing
    inquiries = [routing.inquiry(n, needs=["other"]) for n in range(1, 13)]
    calls = [
        router.route_inquiry(i)
        for i in inquiries
        for router in (mine, other)  # every inquiry handled by both, as in a rebalance
    ]
    case_ids = await asyncio.gather(*calls)
    assert len(set(case_ids)) == 1
    (case,) = await routing.cases.find({}).to_list()
    assert sorted(case["inquiry_ids"]) == sorted(i.inquiry_id for i in inquiries)
    assert len(await routing.events(case["_id"], CaseRouted)) == len(inquiries)


def replace_ctx_client(routing: Any) -> Any:
    from pymongo import AsyncMongoClient

    from indgang_routing.adapters.cases import CaseRepository
    from indgang_routing.adapters.organisations import OrganisationStore
    from indgang_routing.adapters.team import ProviderStore, TeamStore

    ctx = routing.use.ctx
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        ctx.settings.mongodb_uri, tz_aware=True
    )
    db = client[ctx.settings.mongodb_database]
    return replace(
        ctx,
        cases=CaseRepository(db),
        team=TeamStore(db, ctx.team.team_lead_email),
        providers=ProviderStore(db),
        organisations=OrganisationStore(db),
    )


async def test_a_store_from_before_is_upgraded_at_startup(routing: Any) -> None:
    """A store written before the open slot and the equality fields: the newest open case
    of an organisation becomes its open case (an older open one keeps its status, not the
    slot); cases get the top-level fields the hot paths query; members and providers get
    `active`; organisations their latest consultant; consultants' sets of open case ids
    become counters, reconciled with the open cases; the overdue job's first round starts
    it from the earliest due day among the watched cases."""
    first = await routing.case(await routing.use.routing.route_inquiry(routing.inquiry(1)))
    await routing.cases.drop_indexes()
    await routing.cases.delete_many({})
    added = (
        "open_slot",
        "consultant_id",
        "referral_ids",
        "overdue_watch",
        "closed_month",
        "referral_watch",
    )

    async def legacy(case_id: str, status: str, month: int, owner: str, **more: Any) -> None:
        doc = {k: v for k, v in first.items() if k not in added}
        doc.update(
            _id=case_id,
            status=status,
            inquiry_ids=[case_id],
            created_at=datetime(2026, month, 1, tzinfo=UTC),
            consultant={**first["consultant"], "id": owner},
            **more,
        )
        await routing.cases.insert_one(doc)

    long_ago = routing.use.ctx.local_day(routing.use.ctx.now()) - timedelta(days=10)
    await legacy("older", "assigned", 1, "ane-kjaer", first_contact_due=long_ago.isoformat())
    await legacy("newer", "in_progress", 2, "bjarne-holm", referrals=[{"id": "r-1"}])
    # Closed at 01.30 on 1 April in Denmark: an April closure.
    closed_at = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    await legacy("done", "closed", 3, "camilla-dahl", closed_at=closed_at)
    await legacy(
        "other",
        "assigned",
        1,
        "ane-kjaer",
        organisation_key="cvr:12345674",
        overdue_reported_at=closed_at,
    )
    consultants = routing.db["consultants"]
    await consultants.update_many({}, {"$unset": {"active": "", "open_cases": ""}})
    await consultants.update_one({"_id": "ane-kjaer"}, {"$set": {"open_case_ids": ["older"]}})
    await consultants.update_one(
        {"_id": "camilla-dahl"}, {"$set": {"removed_at": closed_at, "open_case_ids": ["x", "y"]}}
    )
    await routing.db["providers"].update_many({}, {"$unset": {"active": ""}})
    for name in ("organisations", "migrations", "jobs"):
        await routing.db[name].delete_many({})

    for hook in routing.app.state.runtime.on_startup:
        await hook()
    await routing.use.casework.overdue.prepare()  # the job's first round, in the background

    cases = {d["_id"]: d async for d in routing.cases.find({})}
    assert {k: d["open_slot"] for k, d in cases.items()} == {
        "newer": "cvr:35954716",
        "older": "legacy:older",
        "done": "closed:done",
        "other": "cvr:12345674",
    }
    assert cases["newer"]["consultant_id"] == "bjarne-holm"
    assert cases["newer"]["referral_ids"] == ["r-1"]
    assert [cases[k]["overdue_watch"] for k in ("older", "newer", "done", "other")] == [
        long_ago.isoformat(),  # its due day
        False,
        False,
        False,  # already reported
    ]
    assert cases["done"]["closed_month"] == "2026-04"
    assert cases["newer"]["closed_month"] is None
    team, loads = await routing.use.ctx.team.load_with_loads()
    assert team.get("camilla-dahl") is None  # she had left
    assert loads == {"ane-kjaer": 2, "bjarne-holm": 1}
    assert await routing.use.ctx.team.recorded_loads() == {
        "ane-kjaer": 2,
        "bjarne-holm": 1,
        "camilla-dahl": 0,
    }
    assert await consultants.count_documents({"open_case_ids": {"$exists": True}}) == 0
    assert await finished_through(routing) == (long_ago - timedelta(days=1)).isoformat()
    assert await routing.use.casework.overdue.report() == 1  # "older"; "other" was reported
    assert "mentorhuset" in await routing.use.ctx.providers.all()
    organisations = routing.use.ctx.organisations
    assert await organisations.latest_consultant("cvr:35954716") == "bjarne-holm"  # open case
    assert await organisations.latest_consultant("cvr:12345674") == "ane-kjaer"
    # the last: cases-referral-watch (the answer deadlines the overdue-referral job reads)
    assert await routing.db["migrations"].count_documents({}) == 8
    assert [c.get("referral_watch") async for c in routing.cases.find({})] == [[]] * 4
    assert all([c.get("search_terms") async for c in routing.cases.find({})])
    case_id = await routing.use.routing.route_inquiry(routing.inquiry(9))
    assert case_id == "newer"  # the organisation's open case takes the new inquiry


async def test_a_watch_flag_of_the_previous_version_becomes_the_due_day(routing: Any) -> None:
    """The previous version stored `overdue_watch: true`; the overdue job looks cases up by
    their due day, so startup turns the flag into it (and leaves false as it is)."""
    use = routing.use
    watched = await use.routing.route_inquiry(routing.inquiry(1))
    contacted = await use.routing.route_inquiry(routing.inquiry(2, organisation_key="cvr:12345674"))
    today = use.ctx.local_day(use.ctx.now())
    await use.casework.log_first_contact(contacted, ANE, ContactChannel.PHONE, today)
    due = (today - timedelta(days=3)).isoformat()
    await routing.cases.update_one(
        {"_id": watched}, {"$set": {"overdue_watch": True, "first_contact_due": due}}
    )
    await routing.db["migrations"].delete_one({"_id": "cases-overdue-watch-day"})
    await routing.db["jobs"].delete_many({})
    for hook in routing.app.state.runtime.on_startup:
        await hook()
    assert (await routing.case(watched))["overdue_watch"] == due
    await use.casework.overdue.prepare()  # the job's first round, in the background
    assert (await routing.case(contacted))["overdue_watch"] is False
    assert await finished_through(routing) == (today - timedelta(days=4)).isoformat()
    assert await use.casework.overdue.report() == 1


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Replace `owner.name` by a wrapper that counts its calls (in the one-item list)."""
    calls = [0]
    original = getattr(owner, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


async def test_a_batch_is_spread_by_the_loads_it_leaves_and_keeps_each_organisations_order(
    routing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One poll's inquiries, placed concurrently across organisations: each placement
    counts the cases opened before it in the batch (read once), so they spread; one
    organisation's inquiries land on its one case in order."""
    use = routing.use
    inquiries = [
        routing.inquiry(n, organisation_key=f"email:rsv{n}@example.dk", needs=["rsv_registration"])
        for n in range(1, 5)
    ]
    follow_up = routing.inquiry(
        5, organisation_key="email:rsv1@example.dk", needs=["funding_and_support"]
    )
    team = use.ctx.team
    roster_reads = count_calls(monkeypatch, team, "load_with_loads")
    case_ids = await use.routing.route_inquiries([*inquiries, follow_up])
    assert roster_reads == [1]  # once for the batch, however many cases it opened
    owners = [(await routing.case(c))["consultant"]["id"] for c in case_ids[:4]]
    # Ane and Bjarne both know RSV registration: each gets half (which organisation
    # comes first among concurrent placements is not fixed).
    assert sorted(owners) == ["ane-kjaer", "ane-kjaer", "bjarne-holm", "bjarne-holm"]
    assert case_ids[4] == case_ids[0]
    assert (await routing.case(case_ids[0]))["inquiry_ids"] == [
        inquiries[0].inquiry_id,
        follow_up.inquiry_id,
    ]
    _, loads = await use.ctx.team.load_with_loads()
    assert loads == {"ane-kjaer": 2, "bjarne-holm": 2, "camilla-dahl": 0}
    organisations = use.ctx.organisations
    assert await organisations.latest_consultant("email:rsv2@example.dk") == owners[1]
    # The whole batch redelivered: nothing new, the same answers (the team read with the
    # batch went unused), and no organisation written again: their records were read
    # with the placements and are whole.
    reads_before = roster_reads[0]
    organisation_writes = count_calls(monkeypatch, organisations, "record")
    assert await use.routing.route_inquiries([*inquiries, follow_up]) == case_ids
    assert roster_reads[0] == reads_before + 1
    assert organisation_writes == [0]
    assert await routing.cases.count_documents({}) == 4
    assert (await use.ctx.team.load_with_loads())[1] == loads


async def test_loads_and_the_latest_consultant_follow_every_change_of_owner(
    routing: Any,
) -> None:
    use = routing.use
    organisations = use.ctx.organisations

    async def loads() -> dict[str, int | None]:
        return {k: n for k, n in (await use.ctx.team.recorded_loads()).items() if n}

    case_id = await use.routing.route_inquiry(routing.inquiry(1))
    assert await loads() == {"ane-kjaer": 1}
    assert await organisations.latest_consultant("cvr:35954716") == "ane-kjaer"
    await use.routing.reassign(case_id, "bjarne-holm", LEAD)
    assert await loads() == {"bjarne-holm": 1}
    assert await organisations.latest_consultant("cvr:35954716") == "bjarne-holm"
    await use.casework.close(case_id, LEAD, "Afklaret.")
    assert await loads() == {}
    assert await organisations.latest_consultant("cvr:35954716") == "bjarne-holm"
    await use.casework.reopen(case_id, LEAD)
    assert await loads() == {"bjarne-holm": 1}
    await use.team_admin.remove("bjarne-holm", "camilla-dahl", LEAD)
    assert await loads() == {"camilla-dahl": 1}
    assert await organisations.latest_consultant("cvr:35954716") == "camilla-dahl"

    # A crash between a case write and its bookkeeping: the startup (or periodic)
    # reconciliation puts the counters right; only those that differ are written.
    reconciliation = Loads(use.ctx)
    assert await reconciliation.reconcile() == 0
    consultants = routing.db["consultants"]
    await consultants.update_one({"_id": "camilla-dahl"}, {"$set": {"open_cases": 0}})
    await consultants.update_one({"_id": "ane-kjaer"}, {"$set": {"open_cases": 3}})
    await consultants.update_one({"_id": "bjarne-holm"}, {"$unset": {"open_cases": ""}})
    assert await reconciliation.reconcile() == 3
    assert await loads() == {"camilla-dahl": 1}
    assert (await use.ctx.team.recorded_loads())["bjarne-holm"] == 0
    # A lost increment never makes a load negative for the policy.
    await consultants.update_one({"_id": "camilla-dahl"}, {"$set": {"open_cases": -1}})
    assert (await use.ctx.team.load_with_loads())[1]["camilla-dahl"] == 0


async def test_a_redelivered_inquiry_repairs_the_bookkeeping_of_its_open_case(
    routing: Any,
) -> None:
    """The process died between the case write and the load/organisation writes: the
    inquiry is redelivered, finds its case placed and records the organisation's latest
    consultant again, but not the load (a counter is not idempotent: a redelivery of a
    fully booked inquiry would count its case twice); the reconciliation repairs that."""
    use = routing.use
    inquiry = routing.inquiry(1)
    case_id = await use.routing.route_inquiry(inquiry)
    assert await use.routing.route_inquiry(inquiry) == case_id
    assert (await use.ctx.team.load_with_loads())[1]["ane-kjaer"] == 1  # counted once
    await routing.db["consultants"].update_many({}, {"$set": {"open_cases": 0}})
    await routing.db["organisations"].delete_many({})
    assert await use.routing.route_inquiry(inquiry) == case_id
    assert await use.ctx.organisations.latest_consultant("cvr:35954716") == "ane-kjaer"
    # A record naming another owner (a write lost after an earlier one) is put right too.
    await routing.db["organisations"].update_one(
        {"_id": "cvr:35954716"}, {"$set": {"case_id": "earlier", "consultant_id": "camilla-dahl"}}
    )
    assert await use.routing.route_inquiry(inquiry) == case_id
    assert await use.ctx.organisations.latest_owner("cvr:35954716") == (
        "ane-kjaer",
        case_id,
    )
    assert (await use.ctx.team.load_with_loads())[1]["ane-kjaer"] == 0
    assert await Loads(use.ctx).reconcile() == 1
    assert (await use.ctx.team.load_with_loads())[1]["ane-kjaer"] == 1
    assert len(await routing.events(case_id)) == 1  # nothing published again


async def test_a_batch_larger_than_one_bulk_command_is_booked_in_full(routing: Any) -> None:
    """45 new organisations in one poll: their loads and latest consultants go out in
    several small bulk commands (adapters/bulk.py), all of them applied."""
    use = routing.use
    inquiries = [
        routing.inquiry(n, organisation_key=f"email:many{n}@example.dk", needs=["other"])
        for n in range(1, 46)
    ]
    case_ids = await use.routing.route_inquiries(inquiries)
    recorded = await use.ctx.team.recorded_loads()
    assert sum(n or 0 for n in recorded.values()) == len(set(case_ids)) == 45
    assert await routing.db["organisations"].count_documents({}) == 45
    assert await Loads(use.ctx).reconcile() == 0


async def test_a_new_case_waits_for_the_team_read_alongside_its_own_reads_not_after_them(
    routing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch begins its one team read with the placements' reads: a new case waits for
    the store once before its insert, not twice. The team read goes out before any
    placement's reads are answered."""
    use = routing.use
    moments: list[str] = []
    load_with_loads = use.ctx.team.load_with_loads
    with_inquiry = use.ctx.cases.with_inquiry

    async def roster() -> Any:
        moments.append("team asked")
        return await load_with_loads()

    async def placed(inquiry_id: str) -> Any:
        found = await with_inquiry(inquiry_id)
        moments.append("case read")
        return found

    monkeypatch.setattr(use.ctx.team, "load_with_loads", roster)
    monkeypatch.setattr(use.ctx.cases, "with_inquiry", placed)
    inquiries = [
        routing.inquiry(n, organisation_key=f"email:new{n}@example.dk", needs=["rsv_registration"])
        for n in range(1, 5)
    ]
    case_ids = await use.routing.route_inquiries(inquiries)
    assert moments == ["team asked", *["case read"] * 4]
    assert len(set(case_ids)) == 4
    # Still spread by the loads the batch leaves (Ane and Bjarne know RSV registration).
    _, loads = await load_with_loads()
    assert loads == {"ane-kjaer": 2, "bjarne-holm": 2, "camilla-dahl": 0}


async def test_a_failed_team_read_fails_only_a_batch_that_needs_it(
    routing: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The team is read with every batch, also one whose inquiries all join open cases:
    there it is not needed, and its failure changes nothing. A batch that opens a case
    fails with it, and its retry (a new batch) reads the team again."""
    use = routing.use
    first = await use.routing.route_inquiry(routing.inquiry(1))
    load_with_loads = use.ctx.team.load_with_loads
    failures = [0]

    async def store_down() -> Any:
        failures[0] += 1
        raise ConnectionError("store down")

    monkeypatch.setattr(use.ctx.team, "load_with_loads", store_down)
    assert await use.routing.route_inquiry(routing.inquiry(2)) == first  # joins: no need
    new = routing.inquiry(3, organisation_key="email:new@example.dk")
    with pytest.raises(ConnectionError):
        await use.routing.route_inquiries([routing.inquiry(4), new])
    assert failures == [2]
    assert (await routing.case(first))["inquiry_ids"][-1] == routing.inquiry(4).inquiry_id
    monkeypatch.setattr(use.ctx.team, "load_with_loads", load_with_loads)
    case_ids = await use.routing.route_inquiries([routing.inquiry(4), new])
    assert case_ids[0] == first
    assert await routing.cases.count_documents({}) == 2
    assert sum((await use.ctx.team.load_with_loads())[1].values()) == 2
