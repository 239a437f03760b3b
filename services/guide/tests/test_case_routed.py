"""Recommendations from a real `case-routed` event on the real broker, to the guide
running as its own process; a redelivered event changes nothing, poison is dead-lettered."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from indgang_contracts.envelope import encode
from indgang_contracts.events import CaseRouted
from indgang_contracts.examples import CASE_ROUTED
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_runtime.http_security import DEVELOPMENT_GUIDE_READER_KEY

from harness import KAFKA_BOOTSTRAP, EventLog, ServiceProcess, eventually, produce


def _case(**change: Any) -> CaseRouted:
    return CaseRouted.model_validate(
        {**CASE_ROUTED.model_dump(mode="json"), "case_id": str(uuid.uuid4()), **change}
    )


async def _send(run_id: str, event: CaseRouted, event_id: str | None = None) -> None:
    record = encode(event, source="/indgang/routing", event_id=event_id)
    await produce(
        KAFKA_BOOTSTRAP,
        f"test-{run_id}.{record.topic}",
        record.value,
        record.key.encode(),
        [(k, v.encode()) for k, v in record.headers.items()],
    )


async def test_a_routed_case_about_hiring_gets_hiring_entries(
    guide_process: ServiceProcess, run_id: str
) -> None:
    case = _case(needs=["hiring_vulnerable_unemployed"], organisation_stage="start_up")
    url = f"{guide_process.url}/api/v1/guide/recommendations/{case.case_id}"
    # As routing reads them: a case's recommendations are for staff only.
    routing = {"Authorization": f"Bearer {DEVELOPMENT_GUIDE_READER_KEY}"}
    async with httpx.AsyncClient(timeout=5, headers=routing) as client:
        assert (await client.get(url)).status_code == 404
        event_id = str(uuid.uuid4())
        await _send(run_id, case, event_id)

        async def recommended() -> dict[str, Any] | None:
            response = await client.get(url)
            return response.json() if response.status_code == 200 else None

        body = await eventually(recommended, timeout=60)
        assert body["case_id"] == case.case_id
        ids = [item["entry_id"] for item in body["items"]]
        assert len(ids) == 5
        assert {"loentilskud", "virksomhedspraktik", "fleksjob", "mentorstoette"} & set(ids[:3])
        assert all(set(item) == {"entry_id", "title", "section", "audience", "score", "why"}
                   for item in body["items"])  # fmt: skip
        assert "Ansættelse af udsatte ledige" in body["items"][0]["why"]
        entry = await client.get(f"{guide_process.url}/api/v1/guide/entries/{ids[0]}")
        assert entry.json()["title"] == body["items"][0]["title"]

        # The same event again (redelivery) and a later reassignment: one list per case.
        await _send(run_id, case, event_id)
        await _send(run_id, _case(case_id=case.case_id, needs=["rsv_registration"]))

        async def follows_the_latest() -> bool:
            items = (await client.get(url)).json()["items"]
            return "rsv-registrering" in [i["entry_id"] for i in items]

        assert await eventually(follows_the_latest, timeout=60)


async def test_an_invalid_case_routed_record_is_dead_lettered(
    guide_process: ServiceProcess, run_id: str
) -> None:
    topic = f"test-{run_id}.{topic_for(CaseRouted)}"
    record = encode(_case(), source="/indgang/routing")
    headers = [(k, v.encode()) for k, v in record.headers.items()]
    async with EventLog(KAFKA_BOOTSTRAP, f"test-{run_id}.{DEAD_LETTER_TOPIC}") as dead:
        await produce(KAFKA_BOOTSTRAP, topic, b'{"case_id": 42}', b"poison", headers)

        async def dead_lettered() -> Any:
            return next(
                (
                    r
                    for r in dead.records
                    if r.key == b"poison"
                    and dict(r.headers)["dlt_original_topic"] == topic.encode()
                    # The subscription's group (its name may carry the run's prefix).
                    and b"indgang-guide" in dict(r.headers)["dlt_consumer_group"]
                ),
                None,
            )

        found = await eventually(dead_lettered, timeout=90)
        assert b"invalid" in dict(found.headers)["dlt_reason"]
