"""CPU and memory of the processes under test, read from /proc (Linux only).

A *part* is a named set of processes: one service, the store (FerretDB plus every
PostgreSQL process, or mongod), Kafka. CPU is utime+stime in clock ticks; the
children a part's root has reaped (cutime+cstime) count too, because PostgreSQL
starts and ends backends and their CPU would otherwise vanish between two readings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return text[text.rindex(")") + 2 :].split()


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root: int) -> list[int]:
    """root and every process below it (PostgreSQL's backends and helpers)."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        fields = _stat(pid)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(pid)  # field 4: ppid
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


@dataclass(frozen=True)
class Part:
    """A named group of processes: its roots, and whether their children belong to it."""

    name: str
    roots: tuple[int, ...]
    with_children: bool = False

    def pids(self) -> list[int]:
        if not self.with_children:
            return [p for p in self.roots if _stat(p) is not None]
        return [p for root in self.roots if _stat(root) is not None for p in descendants(root)]

    def cpu_ticks(self) -> int:
        total = 0
        for pid in self.pids():
            fields = _stat(pid)
            if fields is None:
                continue
            # utime, stime (fields 14, 15) and, for the roots, reaped children (16, 17).
            total += int(fields[11]) + int(fields[12])
            if pid in self.roots:
                total += int(fields[13]) + int(fields[14])
        return total

    def memory_kb(self) -> tuple[int, int]:
        """(RSS, PSS) in kB. PSS splits shared pages (PostgreSQL's shared buffers) fairly,
        so the store's sum is not inflated by every backend counting them."""
        rss = pss = 0
        for pid in self.pids():
            rss += _field_kb(f"/proc/{pid}/status", "VmRSS:")
            pss += _field_kb(f"/proc/{pid}/smaps_rollup", "Pss:")
        return rss, pss


def _field_kb(path: str, label: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(label):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def listener(port: int) -> int | None:
    """The pid of the process listening on TCP `port` (from /proc/net/tcp*: the socket's
    inode, then the process holding it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in _all_pids():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return pid
            except OSError:
                continue
    return None


def _postmaster(ferretdb: int) -> int | None:
    """The PostgreSQL server behind a FerretDB: the postgres process (not a backend) whose
    command names the socket directory in FerretDB's --postgresql-url (host=…)."""
    url = next((a for a in _cmdline(ferretdb).split() if a.startswith("--postgresql-url=")), "")
    host = next((p[5:] for p in url.replace("?", "&").split("&") if p.startswith("host=")), "")
    if not host:
        return None
    for pid in _all_pids():
        command = _cmdline(pid)
        if command.split(" ", 1)[0].endswith("/postgres") and host in command:
            return pid
    return None


def infrastructure(store_port: int, kafka_port: int) -> list[Part]:
    """The store (the process listening on its port, plus its PostgreSQL when it is
    FerretDB on PostgreSQL) and Kafka (the process listening on its port)."""
    parts: list[Part] = []
    store = listener(store_port)
    if store is not None:
        postgres = _postmaster(store) if "ferretdb" in _cmdline(store) else None
        roots = (store,) if postgres is None else (store, postgres)
        parts.append(Part("store", roots, with_children=True))
    kafka = listener(kafka_port)
    if kafka is not None:
        parts.append(Part("kafka", (kafka,)))
    return parts


def _parent(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


@dataclass
class CpuWindow:
    """CPU use of each part between start() and stop(), as % of one core."""

    parts: list[Part]
    started: float = 0.0
    ticks: dict[str, int] | None = None

    def start(self) -> None:
        self.started = time.monotonic()
        self.ticks = {p.name: p.cpu_ticks() for p in self.parts}

    def stop(self) -> dict[str, float]:
        assert self.ticks is not None, "start() first"
        seconds = max(time.monotonic() - self.started, 1e-6)
        return {
            p.name: 100.0 * (p.cpu_ticks() - self.ticks[p.name]) / TICKS / seconds
            for p in self.parts
        }


def memory(parts: Iterable[Part]) -> dict[str, dict[str, float]]:
    """RSS and PSS of each part in MB."""
    out: dict[str, dict[str, float]] = {}
    for part in parts:
        rss, pss = part.memory_kb()
        out[part.name] = {"rss_mb": rss / 1024, "pss_mb": pss / 1024, "processes": len(part.pids())}
    return out
