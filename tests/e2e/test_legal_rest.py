"""Legality by state through the running servers (REST channel), as a website visitor asks."""

from __future__ import annotations

import uuid

import pytest

from actions.legal import LEGAL_NOTE
from actions.legal_answers import dates_phrase
from actions.settings import PROJECT_ROOT
from actions.store.legal_data import read_legal_data

pytestmark = pytest.mark.e2e

DATASET = read_legal_data(PROJECT_ROOT / "data")
DN = {rule.state_code: rule for rule in DATASET.dry_needling}
ACU = {row.state_code: row for row in DATASET.acupuncture}
ASK_STATE = "Which US state are you asking about?"


def new_user() -> str:
    return f"e2e-legal-{uuid.uuid4().hex[:8]}"


def dates(code: str) -> str:
    """'last checked <date>; source dated <date>' of a state's dry needling row."""
    rule = DN[code]
    return dates_phrase(rule.verified_on, rule.source_date, rule.source_date_precision)


def acupuncture_dates(code: str) -> str:
    row = ACU[code]
    return dates_phrase(row.verified_on, row.source_date, row.source_date_precision)


def test_question_naming_the_state_is_answered_directly(bot):
    reply = bot.say(new_user(), "Is dry needling legal in Ohio?")
    assert reply.startswith(f"Yes — physical therapists in Ohio may dry needle (allowed; {dates('OH')}).")
    assert "Source: " in reply and "(source dated January 2026)" in reply
    assert LEGAL_NOTE in reply


def test_missing_state_is_asked_for_then_remembered_and_switched(bot):
    user = new_user()
    assert ASK_STATE in bot.say(user, "is dry needling legal in my state?")

    ohio = bot.say(user, "I live in Ohio")
    assert ohio.startswith(f"Yes — physical therapists in Ohio may dry needle (allowed; {dates('OH')}).")

    again = bot.say(user, "can a PT do it here?")
    assert again.startswith("Yes — physical therapists in Ohio may dry needle")

    texas = bot.say(user, "what about Texas?")
    assert texas.startswith(f"Yes — physical therapists in Texas may dry needle (allowed; {dates('TX')}).")

    licence = bot.say(user, "does my state license acupuncturists?")
    assert licence.startswith(f"Yes — Texas licenses acupuncturists (licensed; {acupuncture_dates('TX')}).")
    assert "Texas State Board of Acupuncture Examiners" in licence


def test_a_reply_without_a_state_is_explained_and_nothing_is_lost(bot):
    user = new_user()
    assert ASK_STATE in bot.say(user, "is dry needling legal in my state?")
    confused = bot.say(user, "Narnia")
    assert "couldn't find a US state" in confused and ASK_STATE in confused
    oregon = bot.say(user, "Oregon")
    assert oregon.startswith(
        f"No — physical therapists in Oregon may not dry needle (prohibited; {dates('OR')})."
    )
    assert "Pending changes:" in oregon and "HB 3824" in oregon


def test_conflicting_sources_point_to_the_board(bot):
    reply = bot.say(new_user(), "can PTs dry needle in Arkansas?")
    assert reply.startswith(
        "Sources disagree — the main source says it is unclear whether physical therapists"
    )
    assert f"in Arkansas may dry needle (unclear; {dates('AR')})" in reply.split("\n")[0]
    assert "Sources disagree: " in reply
    assert "Please check with the Arkansas State Board of Physical Therapy before relying on this." in reply


def test_list_question(bot):
    reply = bot.say(new_user(), "which states don't allow PTs to dry needle?")
    assert (
        "Physical therapists may not dry needle in 4 states: California, Hawaii, New York and Oregon "
        "(last checked " in reply
    )


def test_acupuncture_without_a_state_licence(bot):
    reply = bot.say(new_user(), "is acupuncture regulated in South Dakota?")
    assert reply.startswith(
        "No — South Dakota does not license acupuncturists " f"(no state licence; {acupuncture_dates('SD')})."
    )
