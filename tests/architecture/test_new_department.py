"""A new department needs changes in at most two places (CONTRIBUTING.md).

The two places: the `Department` member with its names in the contracts
(`DEPARTMENT_NAMES`, beside the enum), and its mailbox in notifications'
`departments.toml`. Everything else (console, forms, mails, labels) derives from
those. This test fails when a service grows a table of its own that lists the
departments — the next department would then have to be added there too — and when
one of the two places is incomplete.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from indgang_contracts import DEPARTMENT_NAMES, Department

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "contracts" / "src", ROOT / "runtime" / "src", *(ROOT / "services").glob("*/src")]
SUFFIXES = {".py", ".html", ".txt", ".toml", ".json"}

# The two places a department is added.
CONTRACTS = ROOT / "contracts/src/indgang_contracts/events.py"
MAILBOXES = ROOT / "services/notifications/src/indgang_notifications/data/departments.toml"
# Files that may name several departments without being a place to change: examples
# and optional configuration (a department without a webhook needs no subscription).
EXAMPLES = {
    ROOT / "contracts/src/indgang_contracts/examples.py",
    ROOT / "services/notifications/src/indgang_notifications/data/subscriptions.toml",
}
# The outside provider is not a municipal department: it has behaviour of its own
# (a provider from the team lead's list), so code may name it.
REGULAR = [d for d in Department if d is not Department.OUTSIDE_PROVIDER]


def _mentions(text: str, department: Department) -> bool:
    return bool(
        re.search(rf"\bDepartment\.{department.name}\b", text)
        or re.search(rf"""["'\[.]{department.value}["'\]]""", text)
    )


def _files() -> list[Path]:
    return [
        path
        for source in SOURCES
        for path in source.rglob("*")
        if path.suffix in SUFFIXES and path.is_file()
    ]


def test_no_service_keeps_its_own_list_of_departments() -> None:
    # A file naming two or more regular departments is a table of them.
    tables = {
        path.relative_to(ROOT).as_posix()
        for path in _files()
        if path not in EXAMPLES
        and sum(_mentions(path.read_text(encoding="utf-8"), d) for d in REGULAR) >= 2
    }
    assert tables == {
        CONTRACTS.relative_to(ROOT).as_posix(),
        MAILBOXES.relative_to(ROOT).as_posix(),
    }


def test_every_department_has_its_names_and_a_mailbox() -> None:
    for department in Department:
        names = DEPARTMENT_NAMES[department]
        assert set(names) == {"da", "en", "da_in_text", "en_in_text"}
        assert all(value.strip() for value in names.values())
    mailboxes = tomllib.loads(MAILBOXES.read_text(encoding="utf-8"))["departments"]
    assert set(mailboxes) == {d.value for d in Department}
    assert all("@" in entry["email"] for entry in mailboxes.values())


def test_the_check_finds_a_table() -> None:
    # The detector itself: a label table as the services used to keep one is found.
    table = 'LABELS = {Department.JOB_CENTRE: "Jobcentret", "procurement": "Indkøb"}'
    assert sum(_mentions(table, d) for d in REGULAR) == 2
