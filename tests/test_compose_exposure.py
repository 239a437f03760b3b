"""Issue 12, finding 10: docker-compose.yml publishes only what a user opens, on
loopback; the broker, the store and the mail catcher's SMTP are on an internal network."""

from __future__ import annotations

from typing import Any

import yaml

from harness import ROOT

BACKING = ("kafka", "mongo", "mailpit", "topics")
SERVICES = ("intake", "routing", "notifications", "guide")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_every_published_port_is_bound_to_loopback() -> None:
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_the_broker_and_the_store_are_on_the_internal_network_only() -> None:
    config = compose()
    assert config["networks"]["backend"]["internal"] is True
    services = config["services"]
    for name in ("kafka", "mongo", "topics"):
        assert services[name]["networks"] == ["backend"], name
        assert "ports" not in services[name], name
    # The mail catcher: SMTP only inside, its web UI for the developer on loopback.
    assert services["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]
    for name in SERVICES:
        assert set(services[name]["networks"]) == {"backend", "frontend"}, name
    assert all(name in services for name in (*BACKING, *SERVICES))
