"""The consumer kit's two examples (examples/python-consumer, examples/go-consumer) run
against the real broker: an example record, a repeat of it and a broken one on a
test-prefixed topic; each example handles the first, drops the repeat by its ce_id and
parks the broken one with the reason (docs/integrators.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from indgang_contracts.envelope import Record, encode
from indgang_contracts.examples import REFERRAL_MADE

from harness import KAFKA_BOOTSTRAP, produce

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "indgang.referral-made.v1"


def _go() -> str:
    found = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail("Go is needed for examples/go-consumer (see the root README)")
    return found


async def _publish(prefix: str) -> tuple[Record, str]:
    """The example, the same record again, and a broken one; returns the first and the
    broken one's ce_id."""
    good = encode(REFERRAL_MADE, source="/indgang/routing")
    data = json.loads(good.value)
    data["contact"]["email"] = "not-an-e-mail"
    broken_id = str(uuid.uuid4())
    broken = Record(
        good.topic, good.key, {**good.headers, "ce_id": broken_id}, json.dumps(data).encode()
    )
    for record in (good, good, broken):
        await produce(
            KAFKA_BOOTSTRAP,
            f"{prefix}{record.topic}",
            record.value,
            record.key.encode(),
            [(k, v.encode()) for k, v in record.headers.items()],
        )
    return good, broken_id


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _assert_rules_kept(lines: list[dict[str, Any]], good: Record, parked: Path) -> None:
    assert [line["outcome"] for line in lines] == ["handled", "duplicate", "parked"], lines
    handled = lines[0]
    assert handled["ce_id"] == good.headers["ce_id"]
    assert handled["reference"] == REFERRAL_MADE.reference
    assert lines[1]["ce_id"] == good.headers["ce_id"]
    assert "email" in lines[2]["reason"]
    (kept,) = [json.loads(line) for line in parked.read_text(encoding="utf-8").splitlines()]
    assert kept["headers"]["ce_type"] == "dk.indgang.referral-made.v1"
    assert "email" in kept["reason"]


def _env(run_id: str, name: str, tmp_path: Path) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
        "TOPIC_PREFIX": f"test-{run_id}.",
        "GROUP_ID": f"test-{run_id}.example-{name}",
        "PARKED_FILE": str(tmp_path / "parked.jsonl"),
        "SEEN_DB": str(tmp_path / "seen.sqlite3"),
        "MAX_RECORDS": "3",
    }


async def test_python_consumer_example(infra: None, run_id: str, tmp_path: Path) -> None:
    prefix = f"test-{run_id}.py."
    good, _ = await _publish(prefix)
    env = {**_env(run_id, "python", tmp_path), "TOPIC_PREFIX": prefix}
    lines = _run([sys.executable, "consumer.py", TOPIC], ROOT / "examples" / "python-consumer", env)
    assert lines[0]["consultant"] == REFERRAL_MADE.consultant.name
    _assert_rules_kept(lines, good, tmp_path / "parked.jsonl")


async def test_go_consumer_example(infra: None, run_id: str, tmp_path: Path) -> None:
    prefix = f"test-{run_id}.go."
    good, _ = await _publish(prefix)
    source = ROOT / "examples" / "go-consumer"
    binary = tmp_path / "go-consumer"
    built = subprocess.run(
        [_go(), "build", "-o", str(binary), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    env = {**_env(run_id, "go", tmp_path), "TOPIC_PREFIX": prefix}
    lines = _run([str(binary), TOPIC], source, env)
    assert lines[0]["valid"] is True
    assert lines[0]["source"] == "/indgang/routing"
    _assert_rules_kept(lines, good, tmp_path / "parked.jsonl")
