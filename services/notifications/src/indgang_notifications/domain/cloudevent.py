"""The CloudEvent in structured JSON mode, as webhooks carry it.

Structured (not binary) mode so that the signed body covers every attribute,
including `id` (for de-duplication) and `type`, not only the data.
"""

from __future__ import annotations

import json
from typing import Any

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event


def structured(envelope: Envelope[Event]) -> bytes:
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "time": envelope.time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
    }
    if envelope.subject:
        body["subject"] = envelope.subject
    for name, value in envelope.extensions.items():
        if name not in ("traceparent", "tracestate"):
            body.setdefault(name, value)
    body["data"] = envelope.data.model_dump(mode="json")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
