"""One inquiry's trace across the services, from the exported spans.

    make trace REF=H-2026-000123          # or: python tools/trace.py H-2026-000123
    python tools/trace.py --dir var/traces --json H-2026-000123

Reads the JSON-lines files the services write under TRACES_DIR (`make up`:
var/traces/), finds every span that names the reference (`indgang.reference`, set on
each consumed event's span) and prints the whole trace(s) those spans belong to: one
line per span, indented under its parent, with its service, when it started after the
trace's first span and how long it took. With an OTLP collector instead, search Jaeger
or Tempo for the tag `indgang.reference=<reference>` (docs/observability.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "var" / "traces"
# Span attributes that name the thing asked for.
LOOKED_UP = ("indgang.reference", "indgang.case_reference", "indgang.inquiry_id", "indgang.case_id")


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    kind: str
    start: datetime
    end: datetime
    attributes: dict[str, Any]
    status: str
    children: list[Span] = field(default_factory=list)

    @property
    def milliseconds(self) -> float:
        return (self.end - self.start).total_seconds() * 1000


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _hex(value: str | None) -> str | None:
    return value.removeprefix("0x") if value else None


def read_spans(folder: Path) -> Iterator[Span]:
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    raw = json.loads(line)
                except ValueError:
                    continue  # a line being written
                yield Span(
                    trace_id=_hex(raw["context"]["trace_id"]) or "",
                    span_id=_hex(raw["context"]["span_id"]) or "",
                    parent_id=_hex(raw.get("parent_id")),
                    name=raw["name"],
                    service=raw.get("resource", {}).get("attributes", {}).get("service.name", "?"),
                    kind=str(raw.get("kind", "")).removeprefix("SpanKind."),
                    start=_time(raw["start_time"]),
                    end=_time(raw["end_time"]),
                    attributes=raw.get("attributes") or {},
                    status=raw.get("status", {}).get("status_code", "UNSET"),
                )


def traces_of(reference: str, spans: Iterable[Span]) -> dict[str, list[Span]]:
    """The traces (by trace id) with a span that names `reference`, each's spans."""
    by_trace: dict[str, list[Span]] = defaultdict(list)
    wanted: set[str] = set()
    for span in spans:
        by_trace[span.trace_id].append(span)
        if any(span.attributes.get(name) == reference for name in LOOKED_UP):
            wanted.add(span.trace_id)
    return {trace_id: by_trace[trace_id] for trace_id in sorted(wanted)}


def services_in(spans: Sequence[Span]) -> set[str]:
    return {span.service.removeprefix("indgang-") for span in spans}


def render(trace_id: str, spans: Sequence[Span]) -> list[str]:
    ids = {span.span_id: span for span in spans}
    roots: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        span.children = []
    for span in sorted(spans, key=lambda s: s.start):
        parent = ids.get(span.parent_id or "")
        (parent.children if parent else roots).append(span)
    first = min(span.start for span in spans)
    last = max(span.end for span in spans)
    lines = [
        f"trace {trace_id}: {len(spans)} spans, {len(services_in(spans))} services "
        f"({', '.join(sorted(services_in(spans)))}), "
        f"{(last - first).total_seconds() * 1000:.0f} ms"
    ]

    def walk(span: Span, depth: int) -> None:
        offset = (span.start - first).total_seconds() * 1000
        error = "  ERROR" if span.status == "ERROR" else ""
        lines.append(
            f"{offset:9.1f} ms {span.milliseconds:8.1f} ms  {span.service:<22} "
            f"{'  ' * depth}{span.name}{error}"
        )
        for child in span.children:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", help="the inquiry's reference (H-...), or a case id")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="TRACES_DIR (var/traces)")
    parser.add_argument("--json", action="store_true", help="the spans as JSON, one a line")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"no traces in {args.dir}: start the services with TRACES_DIR set", file=sys.stderr)
        return 2
    found = traces_of(args.reference, read_spans(args.dir))
    if not found:
        print(f"no span names {args.reference} in {args.dir}", file=sys.stderr)
        return 1
    for trace_id, spans in found.items():
        if args.json:
            for span in sorted(spans, key=lambda s: s.start):
                print(
                    json.dumps(
                        {
                            "trace_id": span.trace_id,
                            "span_id": span.span_id,
                            "parent_id": span.parent_id,
                            "service": span.service,
                            "name": span.name,
                            "start": span.start.isoformat(),
                            "milliseconds": round(span.milliseconds, 3),
                            "attributes": span.attributes,
                        }
                    )
                )
        else:
            print("\n".join(render(trace_id, spans)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
