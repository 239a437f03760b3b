"""Issue 15, point 5: one inquiry is one trace, from intake's HTTP request through
Kafka to routing, notifications (to its SMTP delivery) and guide — read from the
spans the four services (real processes, real broker) export as JSON lines, with
the tool `make trace` runs (tools/trace.py). And routing's requests to the guide
carry the trace: the guide's server span is the child of routing's client span."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from indgang_routing.adapters.guide import GuideClient
from indgang_runtime import telemetry

from harness import ROOT, SmtpServer, eventually, serving
from pytest_indgang import System


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("indgang_trace_tool", ROOT / "tools" / "trace.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


trace_tool = _tool()

EVERY_SERVICE = {"intake", "routing", "notifications", "guide"}
INQUIRY: dict[str, Any] = {
    "organisation": {"name": "Sporet Socialøkonomi", "stage": "start_up"},
    "contact": {
        "name": "Trace Testesen",
        "email": f"trace.{uuid.uuid4().hex[:8]}@sporet.example",
        "preferred_language": "da",
    },
    "needs": ["hiring_vulnerable_unemployed"],
    "description": "Et spor gennem alle fire tjenester.",
    "privacy_notice_accepted": True,
}


async def test_one_inquiry_is_one_trace_across_the_four_services(
    system: System, smtp: SmtpServer
) -> None:
    folder = Path(system.services["intake"].env["TRACES_DIR"])
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(f"{system.url('intake')}/api/v1/inquiries", json=INQUIRY)
    assert response.status_code == 202, response.text
    reference = response.json()["reference"]

    async def one_trace_everywhere() -> tuple[str, list[Any]] | None:
        found = trace_tool.traces_of(reference, trace_tool.read_spans(folder))
        for trace_id, spans in found.items():
            ids = {span.span_id for span in spans}
            if (
                trace_tool.services_in(spans) >= EVERY_SERVICE
                and "smtp send" in {span.name for span in spans}
                and all(span.parent_id in ids for span in spans if span.parent_id)
            ):
                return trace_id, spans
        return None

    # The services export what they have every second.
    trace_id, spans = await eventually(one_trace_everywhere, timeout=45)
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(f"{span.service}/{span.name}", []).append(span)
    # It starts at the HTTP request, and each hop is the child of the one before.
    roots = [s for s in spans if s.parent_id is None]
    assert [r.service for r in roots] == ["indgang-intake"], [(r.service, r.name) for r in roots]
    assert roots[0].kind == "SERVER"
    assert any(n.startswith("indgang-routing/inquiry-received handle") for n in by_name)
    assert any(n.startswith("indgang-guide/case-routed handle") for n in by_name)
    assert "indgang-notifications/deliver email" in by_name
    # No personal data on the spans: the contact's e-mail address is nowhere.
    text = "".join(str(s.attributes) for s in spans)
    assert INQUIRY["contact"]["email"] not in text
    # The tool prints it, one line per span.
    lines = trace_tool.render(trace_id, spans)
    assert lines[0].startswith(f"trace {trace_id}")
    assert len(lines) == len(spans) + 1


async def test_the_dashboard_and_alerts_use_only_metrics_the_services_serve(
    system: System,
) -> None:
    from test_observability_config import (
        alert_rules,
        dashboard_expressions,
        exposition_series,
        used,
    )

    served: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as http:
        for name in EVERY_SERVICE:
            response = await http.get(f"{system.url(name)}/metrics")
            assert response.status_code == 200
            served |= exposition_series(response.text)
    wanted = used(dashboard_expressions()) | used(rule["expr"] for rule in alert_rules())
    assert not wanted - served, sorted(wanted - served)


async def test_routings_request_to_the_guide_is_the_parent_of_the_guides_span() -> None:
    memory = InMemorySpanExporter()
    telemetry.configure_tracing("e2e").add_span_processor(SimpleSpanProcessor(memory))
    guide = FastAPI()  # the guide's read API as routing calls it, on a real socket

    @guide.get("/api/v1/guide/recommendations/{case_id}")
    async def recommendations(case_id: str) -> dict[str, list[dict[str, str]]]:
        return {"items": [{"entry_id": "loentilskud", "title": "Løntilskud"}]}

    telemetry.instrument_app(guide)
    async with serving(guide) as url:
        client = GuideClient(url, timeout=5, key="reader-key")
        with telemetry.tracer().start_as_current_span("open case page") as page:
            found = await client.recommendations("case-1")
            assert found is not None
            assert [item["entry_id"] for item in found] == ["loentilskud"]
    telemetry.flush_traces()
    finished = memory.get_finished_spans()
    clients = [s for s in finished if s.kind == SpanKind.CLIENT]
    servers = [s for s in finished if s.kind == SpanKind.SERVER]
    assert len(clients) == 1, [s.name for s in finished]
    assert len(servers) == 1, [s.name for s in finished]
    client_span, server_span = clients[0], servers[0]
    trace_id = page.get_span_context().trace_id
    assert client_span.parent is not None
    assert client_span.parent.span_id == page.get_span_context().span_id
    assert server_span.context.trace_id == trace_id
    assert server_span.parent is not None
    assert server_span.parent.span_id == client_span.context.span_id
    assert (client_span.attributes or {}).get("http.status_code") == 200


async def test_a_request_to_another_service_carries_no_query_string() -> None:
    memory = InMemorySpanExporter()
    telemetry.configure_tracing("e2e").add_span_processor(SimpleSpanProcessor(memory))
    app = FastAPI()

    @app.get("/api/v1/guide/search")
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    telemetry.instrument_app(app)
    async with serving(app) as url, telemetry.traced_http(httpx.AsyncClient(timeout=5)) as http:
        response = await http.get(f"{url}/api/v1/guide/search", params={"q": "Åse Ødegård"})
    assert response.status_code == 200
    finished = memory.get_finished_spans()
    assert {s.kind for s in finished} >= {SpanKind.CLIENT, SpanKind.SERVER}
    text = str([dict(s.attributes or {}) for s in finished])
    assert "q=" not in text
    assert "%C3%85se" not in text
    assert "Åse" not in text
