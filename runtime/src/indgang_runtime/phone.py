"""Phone numbers written the Danish way: "12 34 56 78" (issue 13, point 11)."""

from __future__ import annotations

import re


def danish_phone(number: str) -> str:
    """An 8-digit Danish number (with or without +45/0045) in pairs; anything else as given.

    Pure, so a page or a mail can show a configured or typed number without caring how
    it was written ("+4512345678", "1234 5678", "12-34-56-78" all become "12 34 56 78").
    """
    digits = re.sub(r"[\s\-./()]", "", number)
    prefix = ""
    for country in ("+45", "0045"):
        if digits.startswith(country) and len(digits) == len(country) + 8:
            prefix, digits = "+45 ", digits[len(country) :]
    if len(digits) != 8 or not digits.isdigit():
        return number.strip()
    return prefix + " ".join(digits[i : i + 2] for i in range(0, 8, 2))
