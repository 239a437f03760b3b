"""The delivery log names every code it shows (issue 13, point 11): each message kind with
a template (and the webhook's), each recipient role the planner uses and each event type
has a Danish and an English label, and none of them is a code."""

from __future__ import annotations

import re

import pytest
from test_messages import AUDIENCE, PARTIES, TEMPLATES, envelope

from indgang_contracts.events import EVENT_TYPES
from indgang_contracts.examples import EXAMPLES
from indgang_notifications.domain.log_labels import (
    EVENTS,
    KINDS,
    ROLES,
    UNKNOWN,
    channel_label,
    event_label,
    kind_label,
    language_label,
    role_label,
)
from indgang_notifications.domain.messages import WEBHOOK_KIND, plan

CODE = re.compile(r"[a-z]+[_.-][a-z]")


def test_every_kind_role_and_event_type_has_both_labels() -> None:
    assert set(KINDS) == {*TEMPLATES.kinds(), WEBHOOK_KIND}
    roles = {
        m.recipient_role for e in EXAMPLES for m in plan(envelope(e), AUDIENCE, PARTIES).messages
    }
    assert roles <= set(ROLES)
    assert {model.EVENT_NAME for model in EVENT_TYPES.values()} == set(EVENTS)
    for table in (KINDS, ROLES, EVENTS):
        for code, labels in table.items():
            assert set(labels) == {"da", "en"}, code
            for text in labels.values():
                assert text, code
                assert text != code, code
                assert not CODE.fullmatch(text), (code, text)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_codes_become_labels_and_an_unknown_one_is_never_shown_raw(lang: str) -> None:
    assert kind_label("case_assigned", lang) == KINDS["case_assigned"][lang]
    assert role_label("inquirer", lang) == ROLES["inquirer"][lang]
    assert event_label("dk.indgang.referral-updated.v1", lang) == EVENTS["referral-updated"][lang]
    assert channel_label("email", lang) == "E-mail"
    assert language_label("en", lang) == {"da": "engelsk", "en": "English"}[lang]
    for shown in (
        kind_label("some_new_kind", lang),
        role_label(None, lang),
        event_label("dk.indgang.some-new-event.v1", lang),
        channel_label("pigeon", lang),
    ):
        assert shown == UNKNOWN[lang]
