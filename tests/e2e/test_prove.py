"""The short `make prove` in `make test`: a few hundred inquiries while each service is
SIGKILLed once and the broker restarted, on an infrastructure instance of its own; every
check made from outside must hold. A regression in the guarantees fails the build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_short_prove_holds_every_check_through_kills(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "prove/prove.py", "--short", "--seed", "7", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    said = run.stdout[-4000:] + run.stderr[-4000:]
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1, said
    out = runs[0]
    assert (out / "report.json").exists(), said
    report = json.loads((out / "report.json").read_text())
    killed = {f["target"] for f in report["faults"] if f["what"] == "kill"}
    # The chaos really happened: every service and the broker were killed.
    assert {"intake", "routing", "notifications", "guide", "kafka"} <= killed, killed
    fell_short = [c["name"] for c in report["checks"] if not c["held"]]
    assert not fell_short, (out / "summary.md").read_text()
    assert run.returncode == 0, run.stdout[-4000:]
