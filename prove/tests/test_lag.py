"""The lag watch follows the consumer groups of the services prove starts, and only those:
a group of a service prove does not run (reporting) never commits, so its lag would grow
from the first sample and fail the stall check for no fault of the services under test."""

from __future__ import annotations

from lag import LagWatch, subscriptions
from poison import expected_groups
from stack import SERVICES

from indgang_contracts.topics import topic_for
from indgang_reporting.entrypoints.kafka import CONSUMED


def test_subscriptions_are_those_of_the_services_prove_starts() -> None:
    found = subscriptions()
    assert "reporting" not in SERVICES
    assert set(found) <= set(SERVICES)
    assert {"routing", "notifications"} <= set(found)
    assert "indgang.inquiry-received.v1" in found["routing"]


def test_every_subscriber_in_the_document_when_asked() -> None:
    everyone = subscriptions(services=(*SERVICES, "reporting"))
    # Reporting's read model is made of the topics its CONSUMED names.
    assert sorted(everyone["reporting"]) == sorted(topic_for(model) for model in CONSUMED)
    assert {k: v for k, v in everyone.items() if k != "reporting"} == subscriptions()


def test_the_watch_has_no_group_of_a_service_not_started() -> None:
    groups = LagWatch("127.0.0.1:1", "p.").groups()
    assert groups
    assert not [g for g in groups if g.startswith("p.indgang-reporting")]
    services = {g.removeprefix("p.indgang-").split(".", 1)[0] for g in groups}
    assert services <= set(SERVICES)
    # One group per subscription, reading its own prefixed topic.
    assert groups["p.indgang-routing.indgang.inquiry-received.v1"] == [
        "p.indgang.inquiry-received.v1"
    ]


def test_poison_on_a_topic_only_reporting_reads_expects_no_dead_letter_in_prove() -> None:
    assert expected_groups("indgang.notification-delivered.v1") == set()
    assert expected_groups("indgang.notification-delivered.v1", services=("reporting",)) == {
        "indgang-reporting.indgang.notification-delivered.v1"
    }
    assert "indgang-reporting.indgang.inquiry-received.v1" not in expected_groups(
        "indgang.inquiry-received.v1"
    )
