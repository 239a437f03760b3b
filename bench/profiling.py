"""Where a service's time goes: py-spy (a sampling profiler from PyPI) records it for a
while without stopping it, and the collapsed stacks are summarised per function.

*self* % = samples in which the function was running itself (the top of the stack);
*total* % = samples in which it was anywhere on the stack (the event loop, server and
thread-pool frames under everything are left out); *self by package* adds self time up
per top-level package (pymongo, aiokafka, jinja2, indgang_…). Samples are of busy threads
only (py-spy leaves idle ones out), so the shares say what the CPU time was spent on.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RATE_HZ = 100
_LINE = re.compile(r":\d+\)$")  # "fn (file.py:123)" → "fn (file.py)": one row per function


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise FileNotFoundError("py-spy missing: `uv sync --frozen` installs it (dev group)")
    return found


@dataclass
class Recording:
    service: str
    pid: int
    seconds: float
    raw: Path  # collapsed stacks, one "frame;frame;... count" per line
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.raw.parent.mkdir(parents=True, exist_ok=True)
        log = self.raw.with_suffix(".log").open("wb")
        # --nonblocking: the service is not paused for each sample, so it is measured
        # as it runs (at the price of an occasional torn stack).
        self.process = await asyncio.create_subprocess_exec(
            py_spy(), "record", "--pid", str(self.pid), "--duration", str(round(self.seconds)),
            "--rate", str(RATE_HZ), "--format", "raw", "--output", str(self.raw),
            "--nonblocking", stdout=log, stderr=log,
        )  # fmt: skip

    async def finish(self, top: int = 15) -> dict[str, Any]:
        assert self.process is not None
        try:
            await asyncio.wait_for(self.process.wait(), self.seconds + 30)
        except TimeoutError:
            self.process.terminate()
            await self.process.wait()
        if not self.raw.exists():
            log = self.raw.with_suffix(".log")
            problem = log.read_text(errors="replace")[-500:] if log.exists() else ""
            return {"service": self.service, "error": f"py-spy wrote nothing: {problem}"}
        return {"service": self.service, "raw": str(self.raw), **summarise(self.raw, top)}


# The event loop, the server and the thread pool carry every sample; ranking them by total
# says nothing about where the time goes, so "total" leaves them out.
PLUMBING = {"<string>", "asyncio", "uvicorn", "threading", "concurrent", "selectors", "runpy"}
_ENTRY = re.compile(r"^(main|serve) \((indgang_\w+/app|indgang_runtime/service)\.py\)$")


def package(frame: str) -> str:
    """The top-level package or module of a frame: pymongo for
    "fn (pymongo/asynchronous/pool.py)", selectors for "fn (selectors.py)"."""
    path = frame.rpartition(" (")[2].rstrip(")")
    return path.split("/", 1)[0] if "/" in path else path.removesuffix(".py")


def summarise(raw: Path, top: int = 15) -> dict[str, Any]:
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        samples += n
        own[frames[-1]] += n
        packages[package(frames[-1])] += n
        for frame in set(frames):  # recursion counts once per sample
            if package(frame) not in PLUMBING and not _ENTRY.match(frame):
                anywhere[frame] += n

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "percent": 100.0 * n / samples}
            for name, n in counter.most_common(top)
        ]

    return {
        "samples": samples,
        "rate_hz": RATE_HZ,
        "self": share(own),
        "total": share(anywhere),
        "self_by_package": share(packages),
    }
