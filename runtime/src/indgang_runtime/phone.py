"""Phone numbers written the Danish way: "12 34 56 78" (issue 13, point 11)."""

from __future__ import annotations

import re
from dataclasses import dataclass


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


def phone_href(number: str) -> str:
    """A `tel:` link for the number: digits and a leading +, nothing else."""
    return "tel:" + re.sub(r"[^\d+]", "", number)


# The unit that answers inquiries, as intake's form and the guide's public entry pages
# show it (issue 13, point 9): the development placeholders of UNIT_NAME, UNIT_PHONE
# and UNIT_ADDRESS, refused in production (points 9 and 10).
DEVELOPMENT_UNIT_NAME = "Erhvervsservice, Socialøkonomisk indgang"
DEVELOPMENT_UNIT_PHONE = "12 34 56 78"
DEVELOPMENT_UNIT_ADDRESS = "Centerparken 1, 7330 Brande"


@dataclass(frozen=True)
class UnitContact:
    """Where an enterprise finds the unit: its name, phone (the Danish way) and address."""

    name: str
    phone: str
    phone_href: str
    address: str

    @classmethod
    def of(cls, name: str, phone: str, address: str) -> UnitContact:
        return cls(name=name, phone=danish_phone(phone), phone_href=phone_href(phone),
                   address=address)  # fmt: skip


def unit_contact_problems(name: str, phone: str, address: str) -> list[str]:
    """Why these unit details are unfit for production, one sentence each: a public page
    would send enterprises to a made-up unit, number or address."""
    problems = []
    for variable, value, placeholder in (
        ("UNIT_NAME", name.strip(), DEVELOPMENT_UNIT_NAME),
        ("UNIT_PHONE", danish_phone(phone).removeprefix("+45 "), DEVELOPMENT_UNIT_PHONE),
        ("UNIT_ADDRESS", address.strip(), DEVELOPMENT_UNIT_ADDRESS),
    ):
        if not value or value == placeholder:
            what = "empty" if not value else f"the development placeholder ({placeholder})"
            problems.append(
                f"{variable} is {what}: the public pages show it to enterprises as where to "
                f"find the unit. Set {variable} to the unit's own."
            )
    return problems
