"""Writing and reading the JSON lines files of prove's fake receivers (flaky_smtp, flaky_webhook).

Both tools append one JSON object per line and flush (and fsync) it before they
answer, so a reader may read a file while it grows: `iter_jsonl` skips a last
line that is not complete yet. The summaries count, by the id that stays the
same on every attempt, what the sender was told was taken and what was refused.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


class JsonLines:
    """Appends one JSON object per line; flushed (and fsynced) before `write` returns."""

    def __init__(self, path: Path, fsync: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._fsync = fsync
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            if self._fsync:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            self._file.close()


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The complete lines of `path` as objects (a missing file has none)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the line being written right now
        if isinstance(record, dict):
            yield record


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return list(iter_jsonl(path))


@dataclass
class Summary:
    """What a receiver took and refused, by an id that is the same on every attempt."""

    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    attempts: int = 0

    @property
    def duplicates(self) -> dict[str, int]:
        """Ids taken more than once (the sender was told "yes" more than once)."""
        return {key: n for key, n in self.accepted.items() if n > 1}

    @property
    def never_taken(self) -> set[str]:
        """Ids refused and never taken (yet)."""
        return set(self.refused) - set(self.accepted)


def mail_summary(records: Iterable[dict[str, Any]]) -> Summary:
    """flaky_smtp lines by Message-ID (`<delivery id>@indgang`, the same on every attempt)."""
    summary = Summary()
    for record in records:
        key = str(record.get("message_id") or "")
        summary.attempts += 1
        (summary.accepted if record.get("accepted") else summary.refused)[key] += 1
    return summary


def webhook_summary(records: Iterable[dict[str, Any]]) -> Summary:
    """flaky_webhook lines by `X-Indgang-Delivery` (one per event and subscription, the
    same on every attempt). Taken: a 2xx in time. A slow answer counts as refused, as
    the sender timed out — although this side saw the event, so a later attempt that
    is taken is a duplicate only from the receiver's side (de-duplicate on event id)."""
    summary = Summary()
    for record in records:
        key = str(record.get("delivery_id") or "")
        summary.attempts += 1
        taken = 200 <= int(record.get("status") or 0) < 300 and not record.get("slow")
        (summary.accepted if taken else summary.refused)[key] += 1
    return summary
