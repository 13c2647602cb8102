"""Channel-aware rendering helpers, and options read back from the conversation."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from channels.options import is_short_code, offered_choices, payload_for_code, short_code
from channels.rendering import (
    Choice,
    choices_from_buttons,
    chunks,
    fit,
    is_staff_line,
    numbered_options,
    parse_number_reply,
    plain_text,
    slack_mrkdwn,
    split_text,
)

ANSWER = (
    "Dry needling is a technique, usually done by physical therapists, in which thin needles are put "
    "into tight bands of muscle.\n"
    "For headache, it is mostly tried for tension-type and neck-related headache.\n\n"
    "Sources:\n- Pourahmadi M et al.: https://pubmed.ncbi.nlm.nih.gov/33609358/\n"
    "Last reviewed 21 November 2026."
)


def test_short_text_is_one_part():
    assert split_text(ANSWER, 4096) == [ANSWER]
    assert split_text("  \n ", 10) == []


def test_long_text_is_cut_at_paragraphs_first_and_nothing_is_lost():
    parts = split_text(ANSWER, 200)
    assert parts == [
        "Dry needling is a technique, usually done by physical therapists, in which thin needles are put "
        "into tight bands of muscle.\n"
        "For headache, it is mostly tried for tension-type and neck-related headache.",
        "Sources:\n- Pourahmadi M et al.: https://pubmed.ncbi.nlm.nih.gov/33609358/\n"
        "Last reviewed 21 November 2026.",
    ]


@pytest.mark.parametrize("limit", [20, 37, 60, 100, 160, 320])
def test_every_part_fits_and_words_and_links_stay_whole(limit):
    parts = split_text(ANSWER, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(ANSWER.split())  # nothing lost
    if limit >= max(len(word) for word in ANSWER.split()):
        assert " ".join(" ".join(parts).split()) == " ".join(ANSWER.split())
        assert any("https://pubmed.ncbi.nlm.nih.gov/33609358/" in part for part in parts)


def test_sentence_end_keeps_its_full_stop():
    assert split_text("One two three. Four five six.", 20) == ["One two three.", "Four five six."]


def test_a_word_longer_than_the_limit_is_cut_hard():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    with pytest.raises(ValueError):
        split_text("text", 0)


def test_markdown_links_become_plain_text():
    assert plain_text("See [NCCIH](https://nccih.nih.gov/a) and **this**.") == (
        "See NCCIH (https://nccih.nih.gov/a) and this."
    )
    assert plain_text("[bad](javascript:alert(1))") == "[bad](javascript:alert(1))"


def test_slack_text_is_escaped_and_links_use_slack_markup():
    assert slack_mrkdwn("a < b & <script>x</script> [NCCIH & co](https://nccih.nih.gov/a?x=1&y=2) **b**") == (
        "a &lt; b &amp; &lt;script&gt;x&lt;/script&gt; <https://nccih.nih.gov/a?x=1&y=2|NCCIH &amp; co> *b*"
    )
    assert slack_mrkdwn("<!channel> hi") == "&lt;!channel&gt; hi"


@pytest.mark.parametrize(
    ("text", "number"),
    [("2", 2), (" 2. ", 2), ("#3", 3), ("option 1", 1), ("No. 2", 2), ("2)", 2), ("12", 12)],
)
def test_number_replies(text, number):
    assert parse_number_reply(text) == number


@pytest.mark.parametrize("text", ["", None, "2 sessions a week?", "two", "123", "1 or 2"])
def test_not_number_replies(text):
    assert parse_number_reply(text) is None


def test_numbered_options_text():
    choices = [Choice("What dry needling is", "/a"), Choice("Something else", "/b")]
    assert numbered_options(choices) == (
        "Reply with the number of your choice:\n1. What dry needling is\n2. Something else"
    )


def test_fit_shortens_with_an_ellipsis():
    assert fit("What dry needling is", 20) == "What dry needling is"
    assert fit("Is dry needling the same as acupuncture?", 20) == "Is dry needling the…"
    assert len(fit("Is dry needling the same as acupuncture?", 20)) == 20


def test_staff_lines_are_recognised():
    assert is_staff_line("[staff] topic=x | confidence=0.90")
    assert not is_staff_line("Acupuncture is a treatment")
    assert not is_staff_line(None)


def test_buttons_without_payload_are_skipped_and_chunks_keep_order():
    choices = choices_from_buttons(
        [
            {"title": "A", "payload": "/a"},
            {"title": "Link", "url": "https://x"},
            {"title": " B ", "payload": "/b"},
        ]
    )
    assert choices == [Choice("A", "/a"), Choice("B", "/b")]
    assert chunks([Choice(str(n), f"/{n}") for n in range(5)], 3) == [
        [Choice("0", "/0"), Choice("1", "/1"), Choice("2", "/2")],
        [Choice("3", "/3"), Choice("4", "/4")],
    ]


def bot(text: str, buttons: list[dict[str, str]] | None = None) -> BotUttered:
    return BotUttered(text, {"buttons": buttons} if buttons else {})


OPTIONS = [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}]


def test_offered_choices_are_those_of_the_last_bot_turn():
    asked = [UserUttered("what is dn"), bot("Did you mean:", OPTIONS)]
    assert offered_choices(asked) == [Choice("A", "/a"), Choice("B", "/b")]
    # A later plain message in the same turn does not hide them.
    assert offered_choices([*asked, ActionExecuted("action_listen"), bot("Note.")]) == [
        Choice("A", "/a"),
        Choice("B", "/b"),
    ]
    # Once the user has spoken again, they are gone.
    assert offered_choices([*asked, UserUttered("2"), bot("Answer.")]) == []
    assert offered_choices([]) == []


def test_long_payloads_travel_as_short_codes():
    payload = '/choose_topic{"topic_key": "' + "x" * 80 + '"}'
    code = short_code(payload)
    assert is_short_code(code) and len(code) == 18 and not is_short_code(payload)
    events = [bot("Old", [{"title": "Old", "payload": payload}]), UserUttered("hi"), bot("New", OPTIONS)]
    # An older message's button still works: every stored bot message is searched.
    assert payload_for_code(events, code) == payload
    assert payload_for_code(events, short_code("/unknown")) is None
