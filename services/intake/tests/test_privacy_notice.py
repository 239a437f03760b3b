"""The privacy notice states every service's deletion deadline and what stays in Kafka
for how long (issue 12, finding 7), in Danish and English, and its Kafka figures are the
broker's configuration."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from indgang_intake.app import create_app
from indgang_intake.settings import IntakeSettings

from harness import MONGODB_URI, ROOT

KAFKA_CONFIGS = sorted((Path(ROOT) / "deploy" / "kafka").glob("server*.properties"))
TOPICS = Path(ROOT) / "runtime" / "src" / "indgang_runtime" / "topics.py"


def _properties(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_notice_s_kafka_figures_are_the_broker_s() -> None:
    """7 days after a segment closes (`log.retention.hours`), a segment closed after at
    most 7 days (`log.roll.hours`, default 168): 14 days. No topic sets its own."""
    assert KAFKA_CONFIGS
    for path in KAFKA_CONFIGS:
        config = _properties(path)
        assert config["log.retention.hours"] == "168", path
        assert int(config.get("log.roll.hours", "168")) == 168, path
        for overriding in ("log.retention.minutes", "log.retention.ms", "log.roll.ms"):
            assert overriding not in config, path
    # A per-topic retention would change the figures: update the notice with it.
    assert "retention" not in TOPICS.read_text()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "da",
            [
                "Din sag hos konsulenten",
                "Anonymiseres 365 dage efter, at sagen er afsluttet",
                "1095 dage efter, at vi modtog henvendelsen, også hvis sagen stadig er åben",
                "Beskeder til dig og om din sag",
                "Anbefalede vejledninger til din sag",
                "ingen personoplysninger",
                "beskedkø (Kafka)",
                "Slettes automatisk 7 dage efter",
                "højst 14 dage efter, at hændelsen blev skrevet",
            ],
        ),
        (
            "en",
            [
                "Your case with the consultant",
                "Anonymised 365 days after your case is closed",
                "1095 days after we received the inquiry, even if the case is still open",
                "Messages to you and about your case",
                "Guidance recommended for your case",
                "no personal data",
                "message queue (Kafka)",
                "Deleted automatically 7 days after",
                "at most 14 days after the event was written",
            ],
        ),
    ],
)
async def test_the_notice_lists_every_service_s_deadline_and_kafka_s(
    lang: str, expected: list[str]
) -> None:
    settings = IntakeSettings(mongodb_uri=MONGODB_URI, mongodb_database="t_privacy_notice")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as http:
        response = await http.get(f"/privatliv?lang={lang}")
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.text)
    for phrase in expected:
        assert phrase in text, phrase
