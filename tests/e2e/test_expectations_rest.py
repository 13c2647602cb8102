"""One full "what can I expect" conversation through the REST channel, as a website would send it."""

from __future__ import annotations

import re
import uuid

import pytest

from actions.settings import PROJECT_ROOT
from actions.store.evidence_data import read_evidence_table

pytestmark = pytest.mark.e2e

ROWS = {
    (row.treatment, row.condition): row
    for row in read_evidence_table(PROJECT_ROOT / "data" / "evidence").rows
}


def test_expectations_conversation_from_question_to_personal_range(bot):
    user = f"e2e-expect-{uuid.uuid4().hex[:8]}"

    # 1. Plain "migraines": answered at once for episodic migraine, in short, sourced parts,
    #    then an offer to narrow it down to chronic migraine.
    replies = bot.post(user, "What can I expect from acupuncture for my migraines?")
    answer = "\n".join(str(reply.get("text") or "") for reply in replies)
    # The short answer first (issue 20), then the detail.
    assert replies[0]["text"] == ROWS[("acupuncture", "episodic_migraine")].part("short").text
    assert replies[1]["text"].startswith(
        "What to expect from acupuncture for episodic migraine: a guide from the research, not a promise."
    )
    offers = [reply for reply in replies if reply.get("buttons")]
    assert len(offers) == 1, replies
    assert offers[0]["text"].startswith(
        "That was for episodic migraine (fewer than 15 headache days a month)."
    )
    chronic = offers[0]["buttons"][0]
    assert chronic == {
        "title": "Chronic migraine (15 or more headache days a month)",
        "payload": '/inform_condition{"condition": "chronic migraine"}',
    }
    for fragment in (
        "Typical course: Trials mostly gave about 20 sessions over 4 to 8 weeks",
        "Realistic results: A 2016 Cochrane review of 22 trials",
        "about 4 in 10 people who had acupuncture (41%) at least halved",
        "If you tell me how many migraine days you usually have in a month",
        "What it won't do: It is not a cure",
        "When to see a doctor instead: Get emergency help first (call 911 in the US)",
        "https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD001218.pub3/full",
        "(published 1 July 2017)",
        "Last reviewed 21 November 2026.",
        "not medical advice",
    ):
        assert fragment in answer, fragment

    # 2. A frequency afterwards: only the personal range, labelled as a rough guide.
    personal = bot.say(user, "I get 8 migraine days a month")
    assert personal.startswith("A rough guide from trial averages, not a prediction for you")
    assert (
        "Scaled to your 8 days a month, that is about 5 days with acupuncture, against about 7 days"
        in personal
    )
    assert (
        "About 4 in 10 people at least halve their migraine days, which for you would mean 4 days or fewer"
        in personal
    )
    assert "Typical course" not in personal
    assert re.search(r"Last reviewed \d{1,2} \w+ 20\d\d\.", personal)

    # 3. The offer's button: the answer for chronic migraine, with no further offer.
    chronic_answer = bot.post(user, chronic["payload"])
    assert chronic_answer[0]["text"] == ROWS[("acupuncture", "chronic_migraine")].part("short").text
    assert str(chronic_answer[1].get("text")).startswith(
        "What to expect from acupuncture for chronic migraine"
    )
    assert not any(reply.get("buttons") for reply in chronic_answer)

    # 4. Another condition on its own re-answers for the new pair, keeping the treatment.
    tension = bot.say(user, "and for tension headaches?")
    assert tension.startswith(ROWS[("acupuncture", "tension_type_headache")].part("short").text + "\n\n")
    assert "What to expect from acupuncture for tension-type headache" in tension
    assert "about 1 extra person in every 3 treated" in tension
    assert "doesn't include the figures needed to turn it into a personal estimate" in tension
