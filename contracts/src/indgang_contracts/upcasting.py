"""The one place where old event versions are upcast to the current model.

A consumer that reads a `.v1` type after `.v2` exists gets it converted here,
so handlers only ever see current models. Nothing needs upcasting yet: each
entry maps an old CloudEvent type to a function returning (new type, new data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]

UPCASTERS: dict[str, Upcaster] = {}


def upcast(ce_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Apply upcasters until the type is current."""
    seen: set[str] = set()
    while ce_type in UPCASTERS and ce_type not in seen:
        seen.add(ce_type)
        ce_type, data = UPCASTERS[ce_type](data)
    return ce_type, data
