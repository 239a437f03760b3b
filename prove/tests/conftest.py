"""The prove tools run as scripts (`python prove/<tool>.py`), so their folder is where
they import each other from; the tests import them the same way."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROVE = Path(__file__).resolve().parents[1]
if str(PROVE) not in sys.path:
    sys.path.insert(0, str(PROVE))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Tool:
    """One of the tools running as its own process, as the driver runs it."""

    process: subprocess.Popen[bytes]
    port: int
    out: Path

    def signal(self, sig: int) -> str:
        """Send `sig` and return the line the tool answers with on stdout."""
        self.process.send_signal(sig)
        return read_line(self.process, 5.0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no line from the tool within {timeout}s (got {line!r})")
        chunk = os.read(fd, 1)
        if not chunk:
            raise AssertionError(f"the tool exited (code {process.wait()}), got {line!r}")
        line += chunk
    return line.decode().strip()


@pytest.fixture
def start_tool(tmp_path: Path) -> Iterator[Callable[..., Tool]]:
    """start_tool("flaky_smtp.py", *options) -> Tool, once it printed `ready`."""
    started: list[Tool] = []

    def start(script: str, *options: str) -> Tool:
        port = free_port()
        out = tmp_path / f"{script}-{port}.jsonl"
        process = subprocess.Popen(
            [sys.executable, str(PROVE / script), str(port), str(out), *options],
            stdout=subprocess.PIPE,
        )
        tool = Tool(process, port, out)
        started.append(tool)
        assert read_line(process, 30.0) == "ready"
        return tool

    yield start
    for tool in started:
        tool.stop()
