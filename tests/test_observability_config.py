"""Issue 15, point 5: the Grafana dashboard (deploy/grafana/indgang.json) and the alert
rules (deploy/prometheus/alerts.yml) use only metrics the services export — checked
against the registry the services' /metrics serve (filled in-process here; against the
running services in tests/e2e/test_traces.py) — and the rules have Prometheus's shape
and cover what the issue asks for."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana" / "indgang.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\b((?:indgang|faststream)_[a-z0-9_]+)\b")
# The series a histogram and a counter family expose.
SERIES = {
    "histogram": ("_bucket", "_sum", "_count"),
    "counter": ("_total",),
    "gauge": ("",),
    "summary": ("_sum", "_count", ""),
}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", ())
        if "expr" in target
    ]


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def used(expressions: Iterable[str]) -> set[str]:
    return {name for expr in expressions for name in METRIC.findall(expr)}


def series_of(families: Iterable[Any]) -> set[str]:
    return {
        family.name + suffix for family in families for suffix in SERIES.get(family.type, ("",))
    }


def in_process_series() -> set[str]:
    """What a service's /metrics exposes: the runtime's metrics and FastStream's, whose
    middleware registers them when a broker is made (as every service does)."""
    from indgang_runtime.messaging import make_broker
    from indgang_runtime.settings import ServiceSettings

    make_broker(ServiceSettings(service_name="metrics", mongodb_database="m", http_port=1))
    return series_of(REGISTRY.collect())


def exposition_series(text: str) -> set[str]:
    return series_of(text_string_to_metric_families(text))


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for wanted in ("throughput", "end to end", "lag", "backlog", "dead letters", "failing"):
        assert wanted in titles, wanted
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"]["uid"] == "${datasource}"


def test_the_alert_rules_have_prometheus_shape_and_cover_what_the_issue_asks_for() -> None:
    document = yaml.safe_load(ALERTS.read_text())
    assert set(document) == {"groups"}
    names: list[str] = []
    for group in document["groups"]:
        assert set(group) <= {"name", "rules", "interval"}
        assert group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"].startswith("Indgang")
            assert isinstance(rule["expr"], str)
            assert rule["expr"].strip()
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert {"summary", "description"} <= set(rule["annotations"])
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
            # Balanced brackets: a cheap guard against a broken PromQL expression.
            for opening, closing in ("()", "[]", "{}"):
                assert rule["expr"].count(opening) == rule["expr"].count(closing), rule["alert"]
            names.append(rule["alert"])
    assert len(names) == len(set(names))
    by_metric = {
        name: used([rule["expr"]]) for name, rule in zip(names, alert_rules(), strict=True)
    }
    covered = set().union(*by_metric.values())
    assert "indgang_consumer_lag_records" in covered
    assert "indgang_dead_lettered_total" in covered
    assert "indgang_outbox_oldest_pending_seconds" in covered
    assert {"indgang_delivery_attempts_total", "indgang_deliveries_given_up_total"} <= covered


def test_every_metric_the_dashboard_and_alerts_use_is_exported() -> None:
    wanted = used(dashboard_expressions()) | used(rule["expr"] for rule in alert_rules())
    assert wanted
    missing = wanted - in_process_series()
    assert not missing, f"not exported by the services: {sorted(missing)}"
