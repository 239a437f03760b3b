"""Issue 15, point 6: the Helm chart deploys each service alone.

helm itself renders the chart (built from its Go module by deploy/helm/chart-check.sh
and cached; the tests skip, saying why, only where it cannot be built), and every
rendered manifest passes the schema check (strict decoding into k8s.io/api's types).
The rest reads the rendered objects: what each service gets, and that nothing secret
has a default.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from indgang_contracts.topics import DEAD_LETTER_TOPIC, TOPICS

from harness import ROOT

CHART = ROOT / "deploy" / "helm" / "indgang"
VALUES = CHART / "ci" / "test-values.yaml"
SERVICES = ("intake", "routing", "notifications", "guide")
# Built from source the first time (2-3 minutes), then cached.
TOOLS_TIMEOUT = 600
# The first test builds the tools in its setup: longer than pytest's 300 s default.
pytestmark = pytest.mark.timeout(TOOLS_TIMEOUT + 60)


@dataclass(frozen=True)
class Tools:
    helm: Path
    check: Path

    def template(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm), "template", "indgang", str(CHART), "--namespace", "indgang", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def render(self, *args: str) -> list[dict[str, Any]]:
        result = self.template("-f", str(VALUES), *args)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def tools() -> Tools:
    result = subprocess.run(
        ["bash", str(ROOT / "deploy" / "helm" / "chart-check.sh"), "tools"],
        capture_output=True,
        text=True,
        timeout=TOOLS_TIMEOUT,
    )
    if result.returncode == 3:
        pytest.skip(f"helm cannot be built here: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return Tools(Path(found["HELM"]), Path(found["CHECK"]))


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e for e in container["env"]}


def test_helm_lint_passes(tools: Tools) -> None:
    result = subprocess.run(
        [str(tools.helm), "lint", "--strict", str(CHART), "-f", str(VALUES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rendered_manifest_passes_the_schema_check(tools: Tools) -> None:
    rendered = tools.template("-f", str(VALUES))
    assert rendered.returncode == 0, rendered.stderr
    check = subprocess.run(
        [str(tools.check)], input=rendered.stdout, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "22 manifests valid" in check.stdout, check.stdout


def test_the_schema_check_refuses_a_field_the_api_does_not_have(tools: Tools) -> None:
    rendered = tools.template("-f", str(VALUES)).stdout
    broken = rendered.replace("failureThreshold: 3", "failureTreshold: 3", 1)
    check = subprocess.run(
        [str(tools.check)], input=broken, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 1
    assert 'unknown field "failureTreshold"' in check.stdout


def test_each_service_gets_its_own_deployment_service_pdb_hpa_and_policy(tools: Tools) -> None:
    docs = tools.render()
    for kind in (
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
    ):
        names = set(objects(docs, kind))
        assert {f"indgang-{s}" for s in SERVICES} <= names, (kind, names)
    for name, deployment in objects(docs, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        service = name.removeprefix("indgang-")
        assert container["image"] == f"registry.kommune.example/indgang/indgang-{service}:0.1.0"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["resources"]["limits"]["memory"]
        env = env_of(deployment)
        assert env["ENVIRONMENT"]["value"] == "production"
        assert env["AUTH_MODE"]["value"] == "oidc"
        # Instances must differ for the outbox relay: the pod's name.
        assert env["INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_a_service_deploys_alone(tools: Tools) -> None:
    others = [f"--set=services.{s}.enabled=false" for s in SERVICES if s != "routing"]
    docs = tools.render(*others)
    components = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]
        for d in docs
        if d["kind"] != "Job" and d["metadata"]["name"] != "indgang-topics"
    }
    assert components == {"routing"}
    assert set(objects(docs, "Deployment")) == {"indgang-routing"}


def test_one_service_moves_to_a_new_image_alone(tools: Tools) -> None:
    docs = tools.render("--set=services.routing.imageTag=0.2.0")
    images = {
        name: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for name, d in objects(docs, "Deployment").items()
    }
    assert images["indgang-routing"].endswith("/indgang-routing:0.2.0")
    assert images["indgang-guide"].endswith("/indgang-guide:0.1.0")
    # Only routing's pod template changes, so only routing's pods are replaced.
    before = objects(tools.render(), "Deployment")
    after = objects(docs, "Deployment")
    for name in before:
        same = before[name]["spec"]["template"] == after[name]["spec"]["template"]
        assert same == (name != "indgang-routing"), name


def test_the_municipalitys_own_files_come_from_a_config_map(tools: Tools) -> None:
    routing = objects(tools.render(), "Deployment")["indgang-routing"]
    pod = routing["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["config"] == "/etc/indgang/config"
    assert volumes["config"]["configMap"]["name"] == "indgang-routing-files"
    assert env_of(routing)["TEAM_FILE"]["value"] == "/etc/indgang/config/team.toml"
    guide = objects(tools.render(), "Deployment")["indgang-guide"]
    assert "config" not in {v["name"] for v in guide["spec"]["template"]["spec"]["volumes"]}


def test_reporting_is_one_more_block_and_off_until_enabled(tools: Tools) -> None:
    assert "indgang-reporting" not in objects(tools.render(), "Deployment")
    without_secret = tools.template("-f", str(VALUES), "--set=services.reporting.enabled=true")
    assert without_secret.returncode != 0
    assert "services.reporting.existingSecret is required" in without_secret.stderr
    docs = tools.render(
        "--set=services.reporting.enabled=true",
        "--set=services.reporting.existingSecret=indgang-reporting",
        "--set=services.reporting.oidcClientId=indgang-reporting",
    )
    reporting = objects(docs, "Deployment")["indgang-reporting"]
    container = reporting["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith("/indgang-reporting:0.1.0")
    assert container["ports"][0]["containerPort"] == 8005
    assert "indgang-reporting" in objects(docs, "NetworkPolicy")


def test_every_secret_comes_from_a_kubernetes_secret(tools: Tools) -> None:
    docs = tools.render()
    for name, deployment in objects(docs, "Deployment").items():
        env = env_of(deployment)
        secret = name  # ci/test-values.yaml names each service's Secret like its objects
        for key in ("SESSION_SECRET", "MONGODB_URI", "OIDC_CLIENT_SECRET", "KAFKA_SASL_PASSWORD"):
            ref = env[key]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == (secret, key)
            assert not ref.get("optional")
        for key, entry in env.items():
            if not key.endswith("_FILE") and any(
                word in key for word in ("SECRET", "PASSWORD", "TOKEN", "_KEY")
            ):
                assert "value" not in entry, (name, key)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("image.registry", "image.registry is required"),
        ("image.tag", "image.tag is required"),
        ("oidc.issuer", "oidc.issuer is required"),
        ("kafka.bootstrapServers", "kafka.bootstrapServers is required"),
        ("topics.existingSecret", "topics.existingSecret is required"),
        *[(f"services.{s}.existingSecret", f"services.{s}.existingSecret") for s in SERVICES],
        ("services.intake.apiKeysSecret", "services.intake.apiKeysSecret"),
        ("services.routing.apiKeysSecret", "services.routing.apiKeysSecret"),
        ("services.notifications.subscriptionsSecret", "subscriptionsSecret is required"),
    ],
)
def test_without_a_secret_or_a_required_setting_nothing_renders(
    tools: Tools, missing: str, message: str
) -> None:
    result = tools.template("-f", str(VALUES), f"--set={missing}=")
    assert result.returncode != 0
    assert message in result.stderr


def test_a_misspelt_or_mistyped_value_is_refused_by_the_values_schema(tools: Tools) -> None:
    misspelt = tools.template("-f", str(VALUES), "--set=services.routing.replica=3")
    assert misspelt.returncode != 0
    assert "additional properties 'replica' not allowed" in misspelt.stderr
    wrong = tools.template("-f", str(VALUES), "--set=kafka.securityProtocol=SSL")
    assert wrong.returncode != 0
    assert "securityProtocol" in wrong.stderr


def test_the_autoscaler_stops_at_the_partition_count(tools: Tools) -> None:
    partitions = {t.partitions for t in TOPICS if t.name != DEAD_LETTER_TOPIC}
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert partitions == {values["kafka"]["partitions"]}
    docs = tools.render()
    for hpa in objects(docs, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["maxReplicas"] <= values["kafka"]["partitions"]
    result = tools.template("-f", str(VALUES), "--set=services.routing.autoscaling.maxReplicas=7")
    assert result.returncode != 0
    assert "would get no partition" in result.stderr


def test_the_topics_job_runs_before_install_and_upgrade(tools: Tools) -> None:
    job = objects(tools.render(), "Job")["indgang-topics"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    # The topic list is the contracts package's, in the image (indgang_runtime.topics).
    assert container["command"] == ["indgang-topics"]
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_TOPIC_REPLICATION_FACTOR"]["value"] == "3"
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == (
        "indgang-topics-kafka"
    )


def test_network_policies_let_in_only_what_each_service_needs(tools: Tools) -> None:
    policies = objects(tools.render(), "NetworkPolicy")

    def peers(name: str) -> Iterator[dict[str, Any]]:
        for rule in policies[name]["spec"]["ingress"]:
            yield from rule["from"]

    routing_pods = {"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "indgang",
        "app.kubernetes.io/instance": "indgang",
        "app.kubernetes.io/component": "routing",
    }}}  # fmt: skip
    assert routing_pods in list(peers("indgang-guide"))
    assert routing_pods not in list(peers("indgang-intake"))
    assert policies["indgang-topics"]["spec"]["ingress"] == []
    smtp_ports = {
        port["port"]
        for rule in policies["indgang-notifications"]["spec"]["egress"]
        for port in rule["ports"]
    }
    assert {587, 9092, 27017, 443} <= smtp_ports
    intake_ports = {
        port["port"]
        for rule in policies["indgang-intake"]["spec"]["egress"]
        for port in rule["ports"]
    }
    assert 587 not in intake_ports


COLLECTOR = "http://otel-collector.observability:4318"


def test_with_a_collector_every_service_sends_its_traces_there(tools: Tools) -> None:
    rendered = tools.template("-f", str(VALUES), f"--set=otel.endpoint={COLLECTOR}")
    assert rendered.returncode == 0, rendered.stderr
    check = subprocess.run(
        [str(tools.check)], input=rendered.stdout, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    deployments = objects(docs, "Deployment")
    policies = objects(docs, "NetworkPolicy")
    collector = {
        "ports": [{"protocol": "TCP", "port": 4318}],
        "to": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "observability"
        }}}],
    }  # fmt: skip
    for service in SERVICES:
        name = f"indgang-{service}"
        env = env_of(deployments[name])
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == COLLECTOR
        # Each pod is told apart in the traces (the service name is the runtime's own).
        attributes = env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
        assert "service.instance.id=$(INSTANCE_ID)" in attributes
        assert "k8s.namespace.name=indgang" in attributes
        names = list(env)
        assert names.index("INSTANCE_ID") < names.index("OTEL_RESOURCE_ATTRIBUTES")
        assert collector in policies[name]["spec"]["egress"], name
    # The topics Job exports no traces: its policy stays as it was.
    assert collector not in policies["indgang-topics"]["spec"]["egress"]


def test_the_collectors_place_and_port_come_from_the_values(tools: Tools) -> None:
    docs = tools.render(
        f"--set=otel.endpoint={COLLECTOR}",
        "--set=otel.port=4319",
        "--set=otel.to[0].podSelector.matchLabels.app=collector",
    )
    egress = objects(docs, "NetworkPolicy")["indgang-guide"]["spec"]["egress"]
    assert {
        "ports": [{"protocol": "TCP", "port": 4319}],
        "to": [{"podSelector": {"matchLabels": {"app": "collector"}}}],
    } in egress


def test_without_a_collector_no_trace_export_and_no_egress_to_it(tools: Tools) -> None:
    docs = tools.render()
    for service in SERVICES:
        name = f"indgang-{service}"
        env = env_of(objects(docs, "Deployment")[name])
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
        assert "OTEL_RESOURCE_ATTRIBUTES" not in env
        ports = {
            port["port"]
            for rule in objects(docs, "NetworkPolicy")[name]["spec"]["egress"]
            for port in rule["ports"]
        }
        assert 4318 not in ports, name


def test_a_collector_address_that_is_no_url_is_refused(tools: Tools) -> None:
    result = tools.template("-f", str(VALUES), "--set=otel.endpoint=otel-collector:4318")
    assert result.returncode != 0
    assert "otel.endpoint" in result.stderr or "otel/endpoint" in result.stderr
