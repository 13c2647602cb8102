"""Personal data out of unanswered questions before the report writes them (issue 21)."""

from __future__ import annotations

import pytest

from insights.redaction import redact

CASES = [
    (
        "hi my name is Sarah Connolly, call me on +1 (555) 010-0199 or sarah.c@gmail.com",
        "hi my name is [name], call me on [phone] or [email]",
    ),
    (
        "is Dr. Wei Zhang licensed in Texas? his licence is AC-12345",
        "is Dr. [name] licensed in Texas? his licence is [licence]",
    ),
    ("Can Jennifer Lopez do dry needling in New York", "Can [name] do dry needling in New York"),
    ("i'm maria and i get migraines every week", "i'm [name] and i get migraines every week"),
    ("My acupuncturist Priya told me to ask", "My acupuncturist [name] told me to ask"),
    ("Thanks, Bob", "Thanks, [name]"),
    (
        "my insurance member number 884213377 and zip 90210",
        "my insurance member number [licence] and zip [number]",
    ),
    ("call me at 07700 900123 after 5", "call me at [phone] after 5"),
    ("born 03/04/1985, is acupuncture safe for me", "born [date], is acupuncture safe for me"),
    ("see www.example.com/me?u=jane before my visit", "see [link] before my visit"),
    ("email me: j.o'neil+clinic@mail.example.org", "email me: [email]"),
    ("Hola, soy Lucía Fernández, ¿la acupuntura ayuda?", "Hola, soy [name], ¿la acupuntura ayuda?"),
    ("Is Mark Smith a licensed acupuncturist", "Is [name] a licensed acupuncturist"),
]

# Nothing personal: left exactly as typed (what staff need to read).
UNCHANGED = [
    "What about Tui Na in California?",
    "Is dry needling legal in New Jersey",
    "Does Acupuncture Help Migraine",
    "what does L.Ac. mean",
    "does acupuncture help with 10 - 15 migraine days a month",
    "I am worried about needles",
    "I'm pregnant, is it safe",
    "how much does it cost in NYC",
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_personal_data_is_replaced(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_questions_without_personal_data_are_kept(text):
    assert redact(text) == text
