"""The planner on the real store (issue 13, points 3 and 5): a department's answer waits
for its case's routing like a referral, storing what it can plan once; a corrected
contact gets the closing mail; each delivery is in the log of the case's consultant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from test_messages import SETTINGS, TEMPLATES, changed, envelope

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event
from indgang_contracts.examples import (
    CASE_CONTACT_CHANGED,
    CASE_ROUTED,
    CASE_STATUS_CHANGED,
    MESSAGE_TO_ENTERPRISE,
    REFERRAL_UPDATED,
)
from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.adapters.deliveries import Claim, DeliveryRepository
from indgang_notifications.adapters.departments import load_departments
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.handlers.notify import PartiesNotYetKnown, PartiesUnknown, Planner

Db = AsyncDatabase[dict[str, Any]]


class NoSender:
    """Takes nothing: every delivery is stored unclaimed (the sweep would send it)."""

    def claim_for(self, count: int) -> Claim | None:
        return None

    def take(self, deliveries: Sequence[dict[str, Any]]) -> None:
        pass

    def kick(self) -> None:
        pass


async def planner(db: Db) -> tuple[Planner, DeliveryRepository]:
    deliveries = DeliveryRepository(db)
    await deliveries.ensure_indexes()
    parties = CaseParticipants(db)
    return (
        Planner(
            SETTINGS,
            deliveries,
            parties,
            SubscriptionRepository(db),
            TEMPLATES,
            load_departments(SETTINGS.departments_file),
            NoSender(),
        ),
        deliveries,
    )


async def kinds(deliveries: DeliveryRepository, case_id: str) -> list[tuple[str, str, Any]]:
    docs = await deliveries.of_case(case_id, ("kind", "recipient", "consultant_id"))
    return sorted((d["kind"], d["recipient"], d["consultant_id"]) for d in docs)


def now(event: Event) -> Envelope[Event]:
    """The event's envelope, with the same id each time (a redelivery)."""
    return envelope(event, f"evt-{event.EVENT_NAME}")


async def test_an_answer_waits_for_the_cases_routing_and_is_planned_once(fresh_db: Db) -> None:
    plan, deliveries = await planner(fresh_db)
    answer = changed(REFERRAL_UPDATED, answered_at=datetime.now(UTC))
    with pytest.raises(PartiesNotYetKnown):
        await plan.on_event(now(answer))
    consultant = ("referral_answered", "ane.kjaer@kommune.example", "ane-kjaer")
    assert await kinds(deliveries, answer.case_id) == [consultant]
    await plan.on_event(now(CASE_ROUTED))
    await plan.on_event(now(answer))  # redelivered: now the enterprise can be told
    await plan.on_event(now(answer))
    answers = [k for k in await kinds(deliveries, answer.case_id) if "answer" in k[0]]
    assert answers == [
        ("referral_answer_notice", "aase@kaffeogomsorg.example", "ane-kjaer"),
        consultant,
    ]


async def test_an_answer_whose_case_never_comes_is_dead_lettered(fresh_db: Db) -> None:
    plan, _ = await planner(fresh_db)
    old = changed(REFERRAL_UPDATED, answered_at=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(PartiesUnknown):
        await plan.on_event(now(old))


async def test_the_closing_mail_goes_to_the_corrected_contact(fresh_db: Db) -> None:
    plan, deliveries = await planner(fresh_db)
    await plan.on_events([now(CASE_ROUTED)])
    await plan.on_events([now(CASE_CONTACT_CHANGED)])
    closed = changed(CASE_STATUS_CHANGED, status="closed", message_to_enterprise="Tak for nu.")
    await plan.on_events([now(closed)])
    await plan.on_events([now(MESSAGE_TO_ENTERPRISE)])
    mine = await kinds(deliveries, CASE_ROUTED.case_id)
    assert ("case_closed", "aase.odegaard@kaffeogomsorg.example", "ane-kjaer") in mine
    assert ("message_to_enterprise", "aase@kaffeogomsorg.example", "ane-kjaer") in mine
