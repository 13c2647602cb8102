"""State recognition end to end: the spaCy entity ruler, then the action's normalisation.

Every name, USPS code and listed abbreviation of data/lexicon/us_states.yml, in a question
and as a reply to "Which state?", plus lower case, typos and Washington state vs DC.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.legal import read_state_reply
from actions.states import state_in_message
from lexicon import load_states
from tests.conftest import make_tracker

STATES = load_states()
NAMES = [(state.name, state.code) for state in STATES]
CODES = [(state.code, state.code) for state in STATES]
ABBREVIATIONS = [(abbreviation, state.code) for state in STATES for abbreviation in state.abbreviations]
OTHER_NAMES = [(name, state.code) for state in STATES for name in state.other_names]


def parse(spacy_pipeline, text: str) -> dict[str, Any]:
    """The latest_message Rasa builds with SpacyEntityExtractor (value = the matched text)."""
    entities = [
        {"entity": ent.label_, "value": ent.text, "start": ent.start_char, "end": ent.end_char}
        for ent in spacy_pipeline(text).ents
    ]
    return {"text": text, "intent": {"name": "inform_state", "confidence": 0.9}, "entities": entities}


def reply(message: dict[str, Any]) -> Tracker:
    """The tracker while state_form waits for the state."""
    return make_tracker(
        message, {"requested_slot": "us_state"}, sender_id="states", active_loop={"name": "state_form"}
    )


def test_the_lexicon_has_all_51_jurisdictions():
    assert len(STATES) == 51 and len({state.code for state in STATES}) == 51


@pytest.mark.parametrize(("name", "code"), NAMES, ids=[n for n, _ in NAMES])
def test_full_names_in_a_question(spacy_pipeline, name, code):
    assert state_in_message(parse(spacy_pipeline, f"Is dry needling legal in {name}?")) == code
    assert state_in_message(parse(spacy_pipeline, f"is dry needling legal in {name.lower()}")) == code


@pytest.mark.parametrize(("text", "code"), CODES, ids=[c for c, _ in CODES])
def test_codes_in_context(spacy_pipeline, text, code):
    # Codes that are also words (OR, IN, ME, OK, ...) count only in capitals after "in/from/...".
    assert state_in_message(parse(spacy_pipeline, f"can a PT dry needle in {text}?")) == code
    assert state_in_message(parse(spacy_pipeline, f"what about {text}")) == code


@pytest.mark.parametrize(("text", "code"), CODES, ids=[c for c, _ in CODES])
def test_codes_as_the_reply_to_which_state(spacy_pipeline, text, code):
    assert read_state_reply(reply(parse(spacy_pipeline, text))) == (code, "found")


@pytest.mark.parametrize(("text", "code"), ABBREVIATIONS, ids=[a for a, _ in ABBREVIATIONS])
def test_listed_abbreviations(spacy_pipeline, text, code):
    assert state_in_message(parse(spacy_pipeline, f"is dry needling legal in {text}")) == code
    assert read_state_reply(reply(parse(spacy_pipeline, text))) == (code, "found")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("is dry needling legal in Washington state?", "WA"),
        ("is dry needling legal in Washington?", "WA"),
        ("is dry needling legal in Washington, DC?", "DC"),
        ("is dry needling legal in washington dc", "DC"),
        ("is dry needling legal in DC", "DC"),
        ("is dry needling legal in D.C.?", "DC"),
        ("is dry needling legal in the District of Columbia", "DC"),
    ],
)
def test_washington_state_is_not_washington_dc(spacy_pipeline, text, code):
    assert state_in_message(parse(spacy_pipeline, text)) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("I live in Ohio", "OH"),
        ("i'm in texas", "TX"),
        ("im from calfornia", "CA"),
        ("pensylvania", "PA"),
        ("Missisippi", "MS"),
        ("new yrok", "NY"),
        ("West Virgina", "WV"),
        ("massachusets", "MA"),
        ("we're in n. carolina", "NC"),
        ("tx", "TX"),
        ("ny please", "NY"),
        ("I live in NYC", "NY"),
        ("Oregon, thanks", "OR"),
    ],
)
def test_replies_with_extra_words_lower_case_and_typos(spacy_pipeline, text, code):
    assert read_state_reply(reply(parse(spacy_pipeline, text))) == (code, "found")


@pytest.mark.parametrize("text", ["ok", "or maybe later", "me", "hi", "in", "Ontario", "London", "my state"])
def test_words_and_places_that_are_not_states(spacy_pipeline, text):
    code, outcome = read_state_reply(reply(parse(spacy_pipeline, text)))
    assert code is None and outcome == "failed"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("who licenses acupuncturists in washington state, not washington dc", "WA"),
        ("dry needling rules in oregon, but not in california", "OR"),
        ("not texas, oklahoma: can PTs dry needle there", "OK"),
    ],
)
def test_a_state_ruled_out_is_not_the_one_asked_about(spacy_pipeline, text, code):
    assert state_in_message(parse(spacy_pipeline, text)) == code


@pytest.mark.parametrize(("name", "code"), OTHER_NAMES, ids=[n for n, _ in OTHER_NAMES])
def test_nicknames_and_cities_name_their_state(spacy_pipeline, name, code):
    """ "dry needling in the lone star state", "i live in honolulu": the state they stand for."""
    assert state_in_message(parse(spacy_pipeline, f"can a PT do dry needling in the {name}?")) == code
    assert (
        state_in_message(parse(spacy_pipeline, f"i live in {name.lower()}, is acupuncture licensed")) == code
    )
