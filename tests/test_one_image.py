"""Issue 15, point 6: docker-compose.yml builds every service's image from the one
Dockerfile with the service as the build argument, and the port the image serves is
the one the service listens on by default and the one compose publishes."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
import yaml

from harness import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def dockerfile_ports() -> dict[str, int]:
    """The Dockerfile's table of each service's port (`intake) port=8001 ;;`)."""
    return {
        name: int(port)
        for name, port in re.findall(r"(\w+)\) port=(\d+) ;;", DOCKERFILE.read_text())
    }


def test_every_image_is_built_from_the_one_dockerfile_with_the_service_as_argument() -> None:
    built = {n: s for n, s in compose()["services"].items() if "build" in s}
    assert {"intake", "routing", "notifications", "guide", "topics"} <= set(built)
    for name, service in built.items():
        build = service["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert list(build["args"]) == ["SERVICE"], name
        if name != "topics":  # the topics job runs indgang-topics from intake's image
            assert build["args"]["SERVICE"] == name
            assert service["image"] == f"indgang-{name}"


def test_the_image_serves_the_port_compose_publishes() -> None:
    ports = dockerfile_ports()
    for name, service in compose()["services"].items():
        if "build" in service and name != "topics":
            assert service["ports"] == [f"127.0.0.1:{ports[name]}:{ports[name]}"], name


@pytest.mark.parametrize("service", ["intake", "routing", "notifications", "guide", "reporting"])
def test_the_image_port_is_the_services_own_default(service: str) -> None:
    try:
        module = importlib.import_module(f"indgang_{service}.settings")
    except ImportError:
        pytest.skip(f"indgang_{service} is not installed in this environment")
    settings_class = next(
        value
        for name, value in vars(module).items()
        if name.endswith("Settings") and getattr(value, "__module__", "") == module.__name__
    )
    assert settings_class.model_fields["http_port"].default == dockerfile_ports()[service]


def test_the_dockerfile_needs_only_the_service() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG SERVICE$", text, re.M)
    assert re.search(r'^ARG PORT=""$', text, re.M)  # optional
    # The run reads the port from the image, not from a build argument it no longer has.
    assert "INDGANG_PORT" not in text
    assert "COPY tools/redrive.py ./tools/redrive.py" in text
