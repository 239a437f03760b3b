"""Two routing processes in one consumer group on the real broker and store, a burst of
inquiries in which organisations recur, one process killed (SIGKILL) halfway.

What is sent: 52 distinct inquiries from 8 organisations (each organisation 6-7
times), plus 8 repeats (4 byte-identical records, as Kafka redelivers them, and
4 of the same inquiries re-published under a new CloudEvent id): 60 records. The
records of organisation 0 are deliberately keyed at random instead of by
organisation, so they land on several partitions and both instances handle
that organisation at the same moment: the store, not the partitioning, must
keep it to one case.

What must be seen: exactly one open case per organisation holding all its
inquiries, each inquiry on exactly one case and once; one consultant per case,
named by every case-routed event of that case; exactly one case-routed event
(distinct CloudEvent id) per inquiry; every outbox drained.

A summary (what was sent and seen) is printed and written to
var/log/tests/routing-two-instances-<run>.json.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from pymongo import AsyncMongoClient

from indgang_contracts.envelope import encode
from indgang_contracts.events import InquiryReceived, Need
from indgang_contracts.examples import INQUIRY_RECEIVED

from harness import (
    KAFKA_BOOTSTRAP,
    MONGODB_URI,
    ROOT,
    EventLog,
    ServiceProcess,
    eventually,
    produce,
    service_env,
)
from pytest_indgang import drop_run

ORGANISATIONS = [f"email:org{i}@burst.example" for i in range(8)]
NEEDS = list(Need)


def handled(process: ServiceProcess) -> dict[str, int]:
    """What the instance has done with inquiries so far, from its log: opened a case,
    attached the inquiry to its organisation's case, or found it already placed."""
    assert process.log_path is not None
    text = process.log_path.read_text(errors="replace")
    kinds = ("case_routed", "inquiry_attached", "inquiry_already_routed")
    return {what: text.count(f'"message": "{what}"') for what in kinds}


async def _busy(process: ServiceProcess, at_least: int) -> bool:
    return sum(handled(process).values()) >= at_least


def burst_inquiry(n: int) -> InquiryReceived:
    organisation = ORGANISATIONS[n % len(ORGANISATIONS)]
    data = INQUIRY_RECEIVED.model_dump(mode="json")
    data.update(
        {
            "inquiry_id": str(uuid.UUID(int=0x0B0B << 64 | n)),
            "reference": f"H-B{n:07}",
            "organisation_key": organisation,
            "organisation": {**data["organisation"], "cvr": None, "name": f"Burst {n % 8}"},
            "contact": {**data["contact"], "email": organisation.removeprefix("email:")},
            "needs": [NEEDS[n % len(NEEDS)].value, NEEDS[(n * 3 + 1) % len(NEEDS)].value],
        }
    )
    return InquiryReceived.model_validate(data)


async def test_two_instances_one_group_burst_with_a_kill(infra: None) -> None:
    run_id = f"two{uuid.uuid4().hex[:5]}"
    env = {
        **service_env(run_id, "routing", KAFKA_BOOTSTRAP),
        "GUIDE_URL": "http://127.0.0.1:9",
        "OVERDUE_CHECK_SECONDS": "3600",
        # A group of the run's own: other runs' members cause no rebalances here.
        "CONSUMER_GROUP": f"indgang-routing-{run_id}",
    }
    a = ServiceProcess("routing", env)
    b = ServiceProcess("routing", env)
    topic = f"test-{run_id}.indgang.inquiry-received.v1"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    cases = client[f"t_{run_id}_routing"]["cases"]
    summary: dict[str, Any] = {"run": run_id}
    try:
        a.start()
        b.start()
        await asyncio.gather(a.wait_ready(), b.wait_ready())
        inquiries = [burst_inquiry(n) for n in range(52)]
        records = [encode(i, source="/test/burst") for i in inquiries]
        sends: list[tuple[str, Any, bytes]] = []
        for n, record in enumerate(records):
            key = record.key.encode()
            if inquiries[n].organisation_key == ORGANISATIONS[0]:
                key = uuid.uuid4().hex.encode()  # spread organisation 0 over partitions
            sends.append((f"inquiry {n}", record, key))
            if n % 13 == 5:  # a byte-identical redelivery
                sends.append((f"repeat of {n}", record, key))
            if n % 13 == 11:  # the same inquiry again under a new event id
                again = encode(inquiries[n], source="/test/burst")
                sends.append((f"re-publish of {n}", again, again.key.encode()))
        assert len(sends) == 60

        async with EventLog(KAFKA_BOOTSTRAP, f"test-{run_id}.indgang.case-routed.v1") as routed:
            started = time.monotonic()
            killed_after = None
            for i, (_, record, key) in enumerate(sends):
                headers = [(k, v.encode()) for k, v in record.headers.items()]
                await produce(KAFKA_BOOTSTRAP, topic, record.value, key, headers)
                if i == 29:
                    # Halfway, once A is busy with its share: A dies without a goodbye.
                    await eventually(lambda: _busy(a, 8), timeout=60)
                    assert a.process is not None
                    a.process.send_signal(signal.SIGKILL)
                    a.process.wait()
                    killed_after = i + 1
                    summary["handled_by_a_before_kill"] = handled(a)
            summary["sent"] = {
                "records": len(sends),
                "distinct_inquiries": len(inquiries),
                "organisations": len(ORGANISATIONS),
                "byte_identical_repeats": sum(s[0].startswith("repeat") for s in sends),
                "republished_with_new_event_id": sum(s[0].startswith("re-publish") for s in sends),
                "instance_a_killed_after_records": killed_after,
                "produce_seconds": round(time.monotonic() - started, 1),
            }

            async def all_placed() -> list[dict[str, Any]] | None:
                docs = await cases.find({}, {"outbox": 0}).to_list()
                placed = sum(len(d["inquiry_ids"]) for d in docs)
                drained = all(d.get("outbox_pending", 0) == 0 for d in docs)
                return docs if placed >= len(inquiries) and drained else None

            docs = await eventually(all_placed, timeout=180, interval=1.0)

            async def all_routed() -> bool:
                ids = {e.data.inquiry_id for e in routed.envelopes()}
                return ids >= {i.inquiry_id for i in inquiries}

            await eventually(all_routed, timeout=60)
            await asyncio.sleep(3)  # time for anything that should not come
            envelopes = routed.envelopes()
            summary["seconds_until_all_placed"] = round(time.monotonic() - started, 1)

        # --- what the store holds -------------------------------------------------------
        by_organisation = defaultdict(list)
        for doc in docs:
            by_organisation[doc["organisation_key"]].append(doc)
        assert sorted(by_organisation) == sorted(ORGANISATIONS)
        placements: Counter[str] = Counter()
        for organisation, theirs in by_organisation.items():
            assert len(theirs) == 1, f"{organisation} has {len(theirs)} cases"
            (case,) = theirs
            assert case["status"] == "assigned"
            assert case["open_slot"] == organisation
            assert len(case["inquiry_ids"]) == len(set(case["inquiry_ids"]))
            placements.update(case["inquiry_ids"])
            expected = {i.inquiry_id for i in inquiries if i.organisation_key == organisation}
            assert set(case["inquiry_ids"]) == expected
        assert set(placements) == {i.inquiry_id for i in inquiries}
        assert set(placements.values()) == {1}  # none lost, none placed twice

        # --- what the case-routed topic carries -----------------------------------------
        distinct = {e.id: e for e in envelopes}  # a relay crash may republish an event id
        per_inquiry = Counter(e.data.inquiry_id for e in distinct.values())
        assert set(per_inquiry.values()) == {1}, per_inquiry
        owners: dict[str, set[str]] = defaultdict(set)
        for event in distinct.values():
            owners[event.data.case_id].add(event.data.consultant.id)
        assert all(len(ids) == 1 for ids in owners.values()), owners
        for case in docs:
            assert owners[case["_id"]] == {case["consultant"]["id"]}

        summary["handled_by_b"] = handled(b)
        assert sum(summary["handled_by_a_before_kill"].values()) >= 8
        assert sum(summary["handled_by_b"].values()) > 0
        summary["seen"] = {
            "cases": len(docs),
            "open_cases_per_organisation": {k: len(v) for k, v in sorted(by_organisation.items())},
            "inquiries_per_case": sorted(len(d["inquiry_ids"]) for d in docs),
            "consultants": dict(Counter(d["consultant"]["id"] for d in docs)),
            "case_routed_records": len(envelopes),
            "case_routed_distinct_event_ids": len(distinct),
            "case_routed_republished_duplicates": len(envelopes) - len(distinct),
            "reasons": dict(Counter(e.data.reason.value for e in distinct.values())),
        }
    finally:
        for process in (a, b):
            process.stop()
        await client.close()
        await drop_run(run_id)
        out = ROOT / "var" / "log" / "tests" / f"routing-two-instances-{run_id}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        print(json.dumps(summary, indent=2, ensure_ascii=False))
