"""Routing's deletion deadlines (issue 12, finding 7): with the clock moved, the deletion
job anonymises a case's personal data on the privacy notice's deadlines (365 days after
closing, three years after receipt even if open) and keeps what the statistics need; a
case reopened before its deadline keeps its data. On the real store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from staff_app import PASSWORD

from indgang_contracts.events import (
    ContactChannel,
    Department,
    ReferralOutcome,
    ReferralStatus,
    ReferralTarget,
)
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_routing.adapters.queries import DUE_FOR_ANONYMISATION, HOT_PATHS
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import Conflict
from indgang_routing.domain.referrals import ReferralRequest
from indgang_routing.domain.retention import ANONYMISED
from indgang_routing.handlers.retention import JOB, POLICY, CaseRetention
from indgang_runtime.auth import DepartmentSystem

ANE = Actor(id="ane-kjaer", name="Ane Kjær", consultant_id="ane-kjaer")
RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
_CONTACT = INQUIRY_RECEIVED.contact
# The contact, and words only the free texts (description, note, referral) hold.
PERSONAL = (_CONTACT.name, _CONTACT.email, _CONTACT.phone, "Mette Hansen", "café")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _published(routing: Any, case_id: str) -> None:
    """What the outbox relay does once Kafka has the case's events."""
    await routing.cases.update_one(
        {"_id": case_id}, {"$set": {"outbox_pending": 0, "outbox_due": False}}
    )


async def _worked_case(
    routing: Any, clock: Clock, organisation_key: str, n: int = 1, **kw: Any
) -> str:
    """A case with everything personal routing keeps: contact, description, a second
    inquiry, first contact, a note, a referral answered with an outcome."""
    use = routing.use
    use.ctx.clock = clock
    case_id = await use.routing.route_inquiry(
        routing.inquiry(n, organisation_key, received_at=RECEIVED, **kw)  # "… café …"
    )
    await use.routing.route_inquiry(
        routing.inquiry(n + 1, organisation_key, received_at=RECEIVED + DAY, **kw)
    )
    await use.casework.log_first_contact(case_id, ANE, ContactChannel.PHONE, clock.now.date())
    await use.casework.add_note(case_id, ANE, "Mette Hansen ringer tilbage om løntilskud.")
    referral = await use.referrals.make(
        case_id,
        ReferralRequest(
            target=ReferralTarget(department=Department.JOB_CENTRE),
            purpose="Mette Hansen vil ansætte to i løntilskud.",
            needs=[],
            response_due=None,
            consent_to_share_contact=True,
        ),
        ANE,
    )
    outcome = ReferralOutcome(summary="Mette Hansen har ansat to.", wage_subsidy_hires=2)
    await use.referrals.answer(
        referral, DepartmentSystem(Department.JOB_CENTRE), ReferralStatus.COMPLETED, None, outcome
    )
    return str(case_id)


def _holds_personal_data(case: dict[str, Any]) -> list[str]:
    text = repr({k: v for k, v in case.items() if k != "outbox"}) + repr(case.get("outbox"))
    return [p for p in PERSONAL if p in text]


async def test_a_closed_case_is_anonymised_365_days_after_closing_keeping_its_statistics(
    routing: Any,
) -> None:
    clock = Clock(RECEIVED + timedelta(hours=1))
    case_id = await _worked_case(routing, clock, "cvr:35954716")
    job = routing.app.state.retention
    closed_at = clock.now = RECEIVED + 10 * DAY
    await routing.use.casework.close(case_id, ANE, "Mette Hansen har fået to i løntilskud.")
    await _published(routing, case_id)
    before = await routing.case(case_id)
    assert _holds_personal_data(before)
    assert before["anonymise_at"] == closed_at + 365 * DAY
    assert before["anonymise_on"] == (closed_at + 365 * DAY).date().isoformat()

    clock.now = closed_at + 365 * DAY  # the deadline itself: kept up to and including it
    assert await job.anonymise_due() == 0
    clock.now = closed_at + 366 * DAY
    assert await job.anonymise_due() == 1
    after = await routing.case(case_id)
    assert _holds_personal_data(after) == []
    assert after["contact"]["name"] == ANONYMISED
    assert after["contact"]["email"] is None
    assert after["contact"]["phone"] is None
    assert after["description"] == ANONYMISED
    assert after["outcome"] == ANONYMISED
    assert {i["description"] for i in after["inquiries"]} == {ANONYMISED}
    assert {i["contact"]["email"] for i in after["inquiries"]} == {None}
    assert {n["text"] for n in after["notes"]} == {ANONYMISED}
    assert {e["text"] for e in after["timeline"]} == {ANONYMISED}
    (referral,) = after["referrals"]
    assert referral["purpose"] == ANONYMISED
    assert referral["answers"][0]["outcome"]["summary"] == ANONYMISED
    assert after["outbox"] == []
    assert after["anonymised_at"] == clock.now
    assert after["anonymise_on"] is None
    # The statistics stay: ids, references, status, dates, consultant, needs, organisation.
    for field in (
        "_id", "inquiry_ids", "reference", "status", "created_at", "closed_at",
        "closed_month", "consultant", "needs", "channel", "organisation",
        "organisation_key", "first_contact", "municipality_code",
    ):  # fmt: skip
        assert after[field] == before[field], field
    assert after["organisation"]["name"] == "Kaffe & Omsorg ApS"  # has a CVR number
    assert [i["received_at"] for i in after["inquiries"]] == [RECEIVED, RECEIVED + DAY]
    assert [e["kind"] for e in after["timeline"]] == [e["kind"] for e in before["timeline"]]
    assert referral["status"] == "completed"
    assert referral["answers"][0]["outcome"]["wage_subsidy_hires"] == 2

    # Idempotent: another tick, or a second instance's job, changes nothing.
    clock.now += DAY
    assert await job.anonymise_due() == 0
    assert await routing.case(case_id) == {**after}


async def test_a_case_reopened_before_its_deadline_is_not_anonymised(routing: Any) -> None:
    clock = Clock(RECEIVED + timedelta(hours=1))
    case_id = await _worked_case(routing, clock, "cvr:35954716")
    job = routing.app.state.retention
    clock.now = RECEIVED + 10 * DAY
    await routing.use.casework.close(case_id, ANE, "Afklaret.")
    clock.now = RECEIVED + 300 * DAY
    await routing.use.casework.reopen(case_id, ANE)
    await _published(routing, case_id)
    reopened = await routing.case(case_id)
    assert reopened["anonymise_at"] == RECEIVED + 3 * 365 * DAY  # only the maximum is left

    for days in (376, 377, 800):  # past the first closing's deadline
        clock.now = RECEIVED + days * DAY
        assert await job.anonymise_due() == 0
    case = await routing.case(case_id)
    assert case["anonymised_at"] is None
    assert _holds_personal_data(case) == list(PERSONAL)


async def test_an_open_case_is_anonymised_three_years_after_receipt(routing: Any) -> None:
    """Also the organisation's name and key when it has no CVR number (the key is the
    contact's e-mail), and its pointer to its latest consultant; a new inquiry from the
    same address then opens a new case."""
    clock = Clock(RECEIVED + timedelta(hours=1))
    key = "email:mette@kaffeogomsorg.dk"
    case_id = await _worked_case(
        routing, clock, key, organisation={"name": "Mettes Café", "cvr": None, "stage": "idea"}
    )
    job = routing.app.state.retention
    pending = await routing.case(case_id)
    clock.now = RECEIVED + 3 * 365 * DAY + timedelta(hours=2)
    assert await job.anonymise_due() == 0  # its events still wait for Kafka: kept
    assert (await routing.case(case_id))["anonymise_on"] == clock.now.date().isoformat()
    await _published(routing, case_id)
    clock.now += DAY
    assert await job.anonymise_due() == 1
    case = await routing.case(case_id)
    assert case["status"] == pending["status"] == "in_progress"
    assert _holds_personal_data(case) == []
    assert case["organisation"] == {"name": ANONYMISED, "cvr": None, "stage": "idea"}
    assert case["organisation_key"] == case["open_slot"] == f"anonymised:{case_id}"
    assert key not in repr(case)
    assert await routing.db["organisations"].find_one({"_id": key}) is None

    new_case = await routing.use.routing.route_inquiry(
        routing.inquiry(3, key, received_at=clock.now, organisation=pending["organisation"])
    )
    assert new_case != case_id


async def test_a_store_from_before_deadlines_gets_them_in_the_jobs_first_round(
    routing: Any,
) -> None:
    """Not in a start-up hook (it reads every case: minutes at 100,000, and routing is not
    ready until its hooks are done), but in the deletion job's first round, in the
    background; the job anonymises nothing before it."""
    clock = Clock(RECEIVED + timedelta(hours=1))
    case_id = await _worked_case(routing, clock, "cvr:35954716")
    await routing.cases.update_one(
        {"_id": case_id},
        {"$unset": {"personal_since": "", "anonymise_at": "", "anonymise_on": ""}},
    )
    await routing.db["jobs"].delete_one({"_id": "anonymise-cases"})
    for hook in routing.app.state.runtime.on_startup:
        await hook()
    assert "anonymise_at" not in await routing.case(case_id)  # the start did not wait for it

    retention = routing.app.state.retention
    job = asyncio.create_task(retention.job())
    try:
        for _ in range(200):
            if await routing.use.ctx.jobs.get(JOB, POLICY) is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
    assert await routing.use.ctx.jobs.get(JOB, POLICY) == routing.use.ctx.retention.describe()
    case = await routing.case(case_id)
    assert case["personal_since"] == RECEIVED
    assert case["anonymise_at"] == RECEIVED + 3 * 365 * DAY


async def _misfiled(routing: Any, *case_ids: str) -> None:
    """As after a change of policy: the job's record of it and the cases' deadlines are
    another policy's."""
    await routing.db["jobs"].update_one({"_id": JOB}, {"$set": {POLICY: "1/2"}}, upsert=True)
    for case_id in case_ids:
        await routing.cases.update_one(
            {"_id": case_id},
            {"$set": {"anonymise_at": RECEIVED + 2 * DAY, "anonymise_on": "2026-12-03"}},
        )


async def test_the_first_round_writes_only_the_cases_not_filed_as_the_policy_files_them(
    routing: Any, monkeypatch: Any
) -> None:
    """So a restart half-way through 100,000 cases rewrites only what is left; once the
    policy is recorded, a later start reads no case."""
    clock = Clock(RECEIVED + timedelta(hours=1))
    filed = await _worked_case(routing, clock, "cvr:35954716")
    misfiled = await _worked_case(routing, clock, "cvr:12345674", n=11)
    await _misfiled(routing, misfiled)
    await routing.db["jobs"].update_one({"_id": JOB}, {"$set": {POLICY: "1/2"}})
    cases = routing.use.ctx.cases
    written: list[str] = []
    reads = [0]
    original_file, original_read = cases.file_for_anonymisation, cases.not_anonymised

    async def file(schedules: dict[str, Any]) -> int:
        written.extend(schedules)
        return int(await original_file(schedules))

    async def read() -> list[dict[str, Any]]:
        reads[0] += 1
        return list(await original_read())

    monkeypatch.setattr(cases, "file_for_anonymisation", file)
    monkeypatch.setattr(cases, "not_anonymised", read)
    retention = routing.app.state.retention
    await retention.prepare()
    assert written == [misfiled]
    assert (await routing.case(misfiled))["anonymise_at"] == RECEIVED + 3 * 365 * DAY
    assert (await routing.case(filed))["anonymise_at"] == RECEIVED + 3 * 365 * DAY
    await retention.prepare()  # the policy is recorded: nothing is read again
    assert reads == [1]


async def test_a_case_changed_while_the_first_round_files_it_keeps_what_the_change_wrote(
    routing: Any, monkeypatch: Any
) -> None:
    """The filing is a compare-and-set on each case as read. A case closed after the read
    keeps the deadline its closing wrote (365 days after closing; the read, open, would
    give three years after receipt); one given a note is read again and filed."""
    clock = Clock(RECEIVED + timedelta(hours=1))
    closed = await _worked_case(routing, clock, "cvr:35954716")
    noted = await _worked_case(routing, clock, "cvr:12345674", n=11)
    await _misfiled(routing, closed, noted)
    cases = routing.use.ctx.cases
    original_read = cases.not_anonymised
    closed_at = clock.now = RECEIVED + 10 * DAY

    async def read_then_change() -> list[dict[str, Any]]:
        found = list(await original_read())
        await routing.use.casework.close(closed, ANE, "Mette Hansen har fået hjælp.")
        await routing.use.casework.add_note(noted, ANE, "Ringer igen i morgen.")
        return found

    monkeypatch.setattr(cases, "not_anonymised", read_then_change)
    await routing.app.state.retention.prepare()
    assert (await routing.case(closed))["anonymise_at"] == closed_at + 365 * DAY
    after = await routing.case(noted)
    assert after["anonymise_at"] == RECEIVED + 3 * 365 * DAY
    assert after["anonymise_on"] == (RECEIVED + 3 * 365 * DAY).date().isoformat()


def test_the_deletion_job_query_is_a_declared_hot_path() -> None:
    """`test_hot_paths.py` explains every declared query on the real store."""
    assert DUE_FOR_ANONYMISATION in HOT_PATHS


async def test_two_instances_anonymise_each_case_once_and_a_write_in_between_is_not_lost(
    routing: Any, monkeypatch: Any
) -> None:
    """Two deletion jobs at once (two instances) anonymise each case once; a note added
    after a job read the case makes its write change nothing, and it decides again."""
    clock = Clock(RECEIVED + timedelta(hours=1))
    first = await _worked_case(routing, clock, "cvr:35954716")
    second = await _worked_case(routing, clock, "cvr:12345674", n=11)
    for case_id in (first, second):
        await _published(routing, case_id)
    ctx = routing.use.ctx
    cases = ctx.cases
    read = cases.due_for_anonymisation
    noted: list[str] = []
    refused: list[str] = []

    async def read_then_note(day: str) -> list[dict[str, Any]]:
        found = await read(day)
        if found and not noted:  # someone writes a note right after the job read it
            noted.append(found[0]["_id"])
            try:
                await routing.use.casework.add_note(found[0]["_id"], ANE, "Mette Hansen igen.")
            except Conflict:  # the other job anonymised the case first: the note is refused
                refused.append(found[0]["_id"])
        return found

    monkeypatch.setattr(cases, "due_for_anonymisation", read_then_note)
    clock.now = RECEIVED + 3 * 365 * DAY + 2 * DAY
    done = await asyncio.gather(
        CaseRetention(ctx).anonymise_due(), CaseRetention(ctx).anonymise_due()
    )
    assert sum(done) == 2
    for case_id in (first, second):
        case = await routing.case(case_id)
        assert case["anonymised_at"] == clock.now
        assert _holds_personal_data(case) == []
    (noted_case,) = noted
    # The note stands (anonymised with the case), or was refused because the case was
    # anonymised before it could be written: never personal text on an anonymised case.
    assert len((await routing.case(noted_case))["notes"]) == (1 if refused else 2)


async def test_the_console_shows_an_anonymised_case_with_deleted_not_none(routing: Any) -> None:
    """After the deletion job the case's contact has no e-mail or phone: the case page says
    "slettet" there (and on the case), never "None", and shows no personal data."""
    clock = Clock(RECEIVED + timedelta(hours=1))
    routing.use.ctx.clock = clock
    case_id = str(
        await routing.use.routing.route_inquiry(
            routing.inquiry(
                1,
                "email:mette@kaffeogomsorg.dk",
                received_at=RECEIVED,
                organisation={"name": "Mettes Café", "cvr": None, "stage": "idea"},
            )
        )
    )
    await routing.use.casework.add_note(case_id, ANE, "Mette Hansen ringer tilbage.")
    await _published(routing, case_id)
    clock.now = RECEIVED + 3 * 365 * DAY + 2 * DAY
    assert await routing.app.state.retention.anonymise_due() == 1
    async with routing.client() as client:
        signed_in = await client.post(
            "/auth/login", data={"username": "teamleder", "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text
        page = await client.get(f"/sager/{case_id}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "None" not in html
    assert "mailto:" not in html
    facts = html[html.index("<dt>Kontaktperson</dt>") : html.index("<dt>Kom ind via</dt>")]
    assert facts.count(">slettet</span>") == 2  # the e-mail and the phone
    assert "Personoplysninger slettet" in html
    assert ANONYMISED in facts  # the contact's name, as the job left it
    leaked = [p for p in (*PERSONAL, "mette@kaffeogomsorg.dk", "Mettes Café") if p in html]
    assert leaked == []
