"""Issue 15, point 5: one inquiry is one trace, from intake's HTTP request through
Kafka to routing, notifications (to its SMTP delivery) and guide — read from the
spans the four services (real processes, real broker) export as JSON lines, with
the tool `make trace` runs (tools/trace.py)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from harness import ROOT, SmtpServer, eventually
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
