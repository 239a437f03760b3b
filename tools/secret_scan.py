"""make audit's secret scan: no secret in the repository that is not in the baseline.

`.secrets.baseline` (detect-secrets) lists what the scan finds today, each marked
`is_secret: false` after review: the public development values (deploy/dev, the
`dev-…` keys, the development users' password hashes, the examples in the docs and
the tests), refused in production by every service's start-up check. This script
scans the tracked files again with the baseline's settings, into a copy, and fails
on any finding that is not in the baseline marked false, with where it is.

A finding that is a real secret: remove it from the history and rotate it. One that
is not (a new development value, an example): mark it by refreshing the baseline,
`uv run --frozen python tools/secret_scan.py --update`, and review the diff before
committing — every result must say "is_secret": false only if it truly is public.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".secrets.baseline"


def rescan(baseline: Path) -> dict[str, list[dict[str, object]]]:
    """The tracked files scanned again; `baseline` updated, its marks kept."""
    detect = [sys.executable, "-m", "detect_secrets"]
    # The baseline's own hashes are not secrets (when scanning a copy, detect-secrets
    # leaves out only the copy).
    scan = [
        *detect,
        "scan",
        "--baseline",
        str(baseline),
        "--exclude-files",
        r"^\.secrets\.baseline$",
    ]
    subprocess.run(scan, cwd=ROOT, check=True)
    results: dict[str, list[dict[str, object]]] = json.loads(baseline.read_text())["results"]
    return results


def unreviewed(results: dict[str, list[dict[str, object]]]) -> list[str]:
    return [
        f"{path}:{found['line_number']}: {found['type']}"
        for path, findings in sorted(results.items())
        for found in findings
        if found.get("is_secret") is not False
    ]


def main() -> int:
    if "--update" in sys.argv[1:]:
        results = rescan(BASELINE)
        for findings in results.values():
            for found in findings:
                found.setdefault("is_secret", False)
        data = json.loads(BASELINE.read_text())
        data["results"] = results
        BASELINE.write_text(json.dumps(data, indent=2) + "\n")
        print(f"{BASELINE.name} refreshed: review `git diff {BASELINE.name}` before committing")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / BASELINE.name
        shutil.copy(BASELINE, copy)
        new = unreviewed(rescan(copy))
    if not new:
        print("secret scan: nothing but the reviewed development values")
        return 0
    print("secret scan: possible secrets not in .secrets.baseline:", *new, sep="\n  ")
    print(__doc__.split("\n\n")[-1])
    return 1


if __name__ == "__main__":
    sys.exit(main())
