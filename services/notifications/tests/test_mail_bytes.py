"""A mail's bytes are what the `email` package's compat32 generator makes of the message,
though `SmtpSender.mail` folds the plain headers itself and picks the boundary up front."""

from __future__ import annotations

import random
from email import message_from_bytes
from email.header import Header
from email.policy import compat32

import pytest

from indgang_notifications.adapters.smtp import MAIL_POLICY, UTF8_HEADER, SmtpSender
from indgang_notifications.settings import NotificationSettings

LONG_NAME = "Meget Langt Virksomhedsnavn ApS " * 4

HEADER_VALUES = [
    "",
    "1.0",
    "auto-generated",
    "a@b.dk",
    "<x@indgang>",
    "Wed, 02 Dec 2026 09:35:33 GMT",
    'text/plain; charset="utf-8"',
    "  leading and trailing  ",
    "two  spaces",
    "tab\there",
    "x" * 64,  # "Subject: " and this: 73 characters
    "x" * 69,  # 78: the longest line not folded
    "x" * 70,  # 79
    "word " * 20,
    "a;b,c " * 20,
    "æøå",
    "Kaffe & Omsorg ApS",
    "=?utf-8?q?Ane_Kj=C3=A6r?= <ane@kommune.example>",
]


@pytest.mark.parametrize("value", HEADER_VALUES)
@pytest.mark.parametrize("name", ["Subject", "Content-Transfer-Encoding"])
def test_a_header_folds_as_compat32_folds_it(name: str, value: str) -> None:
    assert MAIL_POLICY.fold_binary(name, value) == compat32.fold_binary(name, value)


def test_an_encoded_subject_folds_as_compat32_folds_it() -> None:
    subject = Header("Ny sag til dig: " + LONG_NAME + "Æblegården", "utf-8")
    assert MAIL_POLICY.fold_binary("Subject", subject) == compat32.fold_binary("Subject", subject)


def test_a_subject_is_cut_into_the_encoded_words_the_email_package_cuts_it_into() -> None:
    # Danish (quoted-printable), Japanese and emoji (base64 is shorter), the characters
    # quoted-printable encodes, any length: first lines too short for one character too.
    alphabets = ["abc ", "æøåÆØÅ é", "日本語テキスト", "😀🎉", "=?_\t:;,", "Ny sag til dig "]
    rng = random.Random(2026)
    for _ in range(1500):
        letters = "".join(rng.sample(alphabets, rng.randint(1, 2)))
        text = "".join(rng.choice(letters) for _ in range(rng.randint(0, 160)))
        for name, width in (("Subject", 78), ("Subject", 30), ("Subject", 0), ("X-Header", 40)):
            ours = Header(text, UTF8_HEADER, header_name=name).encode(maxlinelen=width)
            theirs = Header(text, "utf-8", header_name=name).encode(maxlinelen=width)
            assert ours == theirs, text


@pytest.mark.parametrize(
    ("mail_from", "recipient", "subject", "reply_to"),
    [
        ("Ikast-Brande Kommune <noreply@ikast-brande.example>", "a@b.dk", "Emne", None),
        (
            "Ikast-Brande Kommune – Én indgang <noreply@ikast-brande.example>",
            "aase@kaffeogomsorg.example",
            "Jeres kontakt i Ikast-Brande Kommune: Ane Kjær (H-7K3M9Q2P)",
            "Ane Kjær <ane.kjaer@kommune.example>",
        ),
        ("noreply@x.dk", "a" * 80 + "@b.dk", "Ny sag til dig: " + LONG_NAME, "c@kommune.dk"),
        ("noreply@x.dk", "æøå@eksempel.dk", "New case: " + "ASCII " * 14, None),
    ],
)
def test_the_mail_is_what_the_email_package_makes_of_the_message(
    mail_from: str, recipient: str, subject: str, reply_to: str | None
) -> None:
    sender = SmtpSender(
        NotificationSettings(mongodb_database="n", environment="development", mail_from=mail_from)
    )
    text = "Hej Åse,\n\nVi har modtaget jeres henvendelse. Læs mere: https://example.dk/a=b\n"
    html = '<p>Hej Åse,</p>\n<p><a href="https://example.dk/a=b">link</a></p>\n'
    message = sender.compose(recipient, "<x@indgang>", subject, text, html, "da", reply_to)
    assert message.as_bytes(policy=MAIL_POLICY) == message.as_bytes()


def test_a_body_holding_a_boundary_like_line_stays_in_its_part() -> None:
    sender = SmtpSender(NotificationSettings(mongodb_database="n", environment="development"))
    hostile = "\n".join(["--===============1234567890123456789==", "==", "--"]) + "\n"
    mail = sender.mail(sender.compose("a@b.dk", "<x@indgang>", "Emne", hostile, "<p>ok</p>", "da"))
    parts = message_from_bytes(mail.data).get_payload()
    assert isinstance(parts, list)
    assert len(parts) == 2
    assert parts[0].get_payload(decode=True).decode() == hostile
    assert parts[1].get_payload(decode=True).decode() == "<p>ok</p>"
