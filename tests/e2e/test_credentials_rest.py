"""Licence checks and practitioner searches through the REST channel, on the FICTIONAL demo licences."""

from __future__ import annotations

import uuid

import pytest

from actions.settings import PROJECT_ROOT
from actions.store.database import build_engine
from actions.store.licence_import import load_demo_licences

pytestmark = pytest.mark.e2e

LIVE = "For the live, official record,"
NOT_PROOF = "that does not prove they are unlicensed"


@pytest.fixture(scope="module")
def licence_bot(bot):
    """The running bot with the demo licences loaded (a no-op once `make load-content` loads them)."""
    engine = build_engine(bot.database_url)
    try:
        load_demo_licences(PROJECT_ROOT / "data", engine)
    finally:
        engine.dispose()
    return bot


def new_user() -> str:
    return f"e2e-cred-{uuid.uuid4().hex[:8]}"


def test_check_by_number_says_what_the_data_shows(licence_bot):
    reply = licence_bot.say(new_user(), "Check licence DEMO-AC-00123 in Texas")
    assert "It is not a live check" in reply
    assert "Jane Example: Licensed Acupuncturist, licence DEMO-AC-00123, Austin, Texas." in reply
    assert "Status: active, expires 31 January 2027." in reply
    assert "Data: FICTIONAL demo data (not real people or licences), retrieved 1 November 2026." in reply
    assert LIVE in reply


def test_licence_number_in_another_format(licence_bot):
    reply = licence_bot.say(new_user(), "look up licence demo-ac-00123 in TX")
    assert "licence DEMO-AC-00123, Austin, Texas." in reply


def test_no_match_does_not_claim_unlicensed(licence_bot):
    reply = licence_bot.say(new_user(), "Is Jane Doe a licensed acupuncturist in Texas?")
    assert reply.startswith(f"I could not find Jane Doe in Texas in our data; {NOT_PROOF}.")
    assert LIVE in reply


@pytest.mark.parametrize(
    ("question", "status"),
    [
        ("is Taylor Madeup licensed in Texas?", "Status: REVOKED."),
        ("is Pat Notreal licensed in Texas?", "Status: SUSPENDED."),
        ("check licence DEMO-AC-00129 in TX", "Status: EXPIRED on 31 March 2025."),
    ],
)
def test_revoked_suspended_and_expired_are_said_plainly(licence_bot, question, status):
    reply = licence_bot.say(new_user(), question)
    assert status in reply
    assert LIVE in reply


def test_several_matches_then_the_user_picks_one(licence_bot):
    user = new_user()
    replies = licence_bot.post(user, "is Alex Sample licensed in Texas")
    assert replies[0]["text"].startswith("Our licence data has 2 licences in Texas matching Alex Sample:")
    payloads = [button["payload"] for button in replies[0].get("buttons", [])]
    assert payloads == ["DEMO-AC-00132", "DEMO-AC-00131"]

    reply = licence_bot.say(user, payloads[0])
    assert "Alex Sample: Licensed Acupuncturist, licence DEMO-AC-00132, Dallas, Texas." in reply
    assert "Status: EXPIRED" in reply


def test_the_form_asks_for_what_is_missing(licence_bot):
    user = new_user()
    assert "Which US state is the licence from?" in licence_bot.say(user, "can you verify my PT's licence")
    assert "licence number (for example AC-12345), or their first and last name?" in licence_bot.say(
        user, "Texas"
    )
    reply = licence_bot.say(user, "Robin Example")
    assert "Robin Example: Physical Therapist, licence DEMO-PT-20001, Austin, Texas." in reply
    assert "online licence lookup of the Texas physical therapy board" in reply


def test_bad_answers_get_a_clear_message_and_stop_works(licence_bot):
    user = new_user()
    assert "Which US state" in licence_bot.say(user, "can you check a licence for me")
    reply = licence_bot.say(user, "Narnia")
    assert "couldn't find a US state" in reply
    assert "Which US state" in reply
    assert licence_bot.say(user, "stop") == "OK, I've stopped the licence check. Ask me anything else."


def test_the_state_is_remembered_for_the_next_check(licence_bot):
    user = new_user()
    licence_bot.say(user, "is Taylor Madeup licensed in Texas?")
    reply = licence_bot.say(user, "check licence DEMO-AC-00123")
    assert "Jane Example: Licensed Acupuncturist, licence DEMO-AC-00123, Austin, Texas." in reply


def test_find_practitioners_near_a_city(licence_bot):
    reply = licence_bot.say(new_user(), "Find a licensed acupuncturist near Austin, TX")
    assert reply.startswith("Active acupuncture licences in our data for Austin, Texas:\n1. ")
    assert "\n5. " in reply and "\n6. " not in reply
    assert "There are more in our data; I list at most 5." in reply
    assert "This is not a recommendation and not a live check" in reply
    for not_active in ("Chris Fictional", "Pat Notreal"):
        assert not_active not in reply


def test_find_asks_for_the_city(licence_bot):
    user = new_user()
    assert "Which city or town should I search?" in licence_bot.say(
        user, "find a licensed acupuncturist in Oregon"
    )
    reply = licence_bot.say(user, "Portland")
    assert reply.startswith("Active acupuncture licences in our data for Portland, Oregon:\n1. Quinn Example")


def test_glossary_question_is_answered_with_sources(licence_bot):
    reply = licence_bot.say(new_user(), "what does certified in dry needling mean")
    assert reply.startswith('When a physical therapist (PT) says they are "certified in dry needling"')
    assert "Last reviewed" in reply
