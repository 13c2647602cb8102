"""Messages that name a US state go to the legality feature (issue 18): entities in, intent out."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlp_pipeline.routing import (
    FollowUpRouter,
    LicenceNumberRouter,
    MedicationAdviceRouter,
    StateQuestionRouter,
)


def parsed(spacy_pipeline, text: str, intent: str = "nlu_fallback") -> Message:
    """A message with the entity ruler's entities, as SpacyEntityExtractor gives them."""
    message = Message(data={"text": text})
    entities = [
        {"entity": e.label_, "value": e.text, "start": e.start_char, "end": e.end_char}
        for e in spacy_pipeline(text).ents
    ]
    message.set("entities", entities, add_to_output=True)
    message.set("intent", {"name": intent, "confidence": 0.4}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": 0.4}], add_to_output=True)
    return message


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("minnesotta physical therapist dry needling, is it legal?", "ask_dry_needling_legality"),
        ("dry needling hawii physical therapy allowed or not", "ask_dry_needling_legality"),
        ("nj pt dry needling allowed now?", "ask_dry_needling_legality"),
        ("sc dry needling pt", "ask_dry_needling_legality"),
        ("Tx acupuncture license requirements", "ask_acupuncture_licensure"),
        ("who regulates acupuncture in nevada", "ask_acupuncture_licensure"),
        ("same deal in oklahoma?", "inform_state"),
        ("south carolina too?", "inform_state"),
        ("is it legal in texas", "inform_state"),
        # Who may practise, asked with "who".
        ("who does dry needling in oregon", "ask_dry_needling_legality"),
        ("ok and acupuncture in arizona, who's allowed to do it", "ask_acupuncture_licensure"),
        ("and tui na over there, who can do that?", "inform_state"),
    ],
)
def test_state_questions_are_routed(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text)
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how many sessions of dry needling do people usually need in texas", "faq"),
        ("is Jane Doe licensed in Texas?", "check_licence"),
        ("what is dry needling", "faq"),
        ('/choose_topic{"topic_key": "cost"}', "choose_topic"),
    ],
)
def test_other_questions_are_left_alone(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, intent)
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": intent, "confidence": 0.4}


@pytest.mark.parametrize(
    ("text", "intent", "state"),
    [
        # A code that is a title or a word elsewhere, closing a legality question.
        ("is dry needling legal in md", "ask_dry_needling_legality", "MD"),
        ("acupuncture license requirements in de?", "ask_acupuncture_licensure", "DE"),
        ("acupuncture rules in ok", "ask_acupuncture_licensure", "OK"),
        ("is dry needling allowed in hi for physical therapists", "ask_dry_needling_legality", "HI"),
        ("and in me?", "inform_state", "ME"),
    ],
)
def test_a_code_closing_a_state_question_is_the_state(spacy_pipeline, text, intent, state):
    message = parsed(spacy_pipeline, text)
    StateQuestionRouter({}).process([message])
    assert [e["value"] for e in message.get("entities") if e["entity"] == "us_state"] == [state]
    # "md" is no longer also a physician.
    assert state.lower() not in [
        e["value"].lower() for e in message.get("entities") if e["entity"] == "practitioner"
    ]
    assert message.get("intent")["name"] == intent


@pytest.mark.parametrize(
    "text",
    [
        "can they put the needles in me if i am on blood thinners, is that allowed",
        "how many sessions do i need in or around my neck",
        "does it hurt",
    ],
)
def test_words_after_in_are_not_codes_elsewhere(spacy_pipeline, text):
    message = parsed(spacy_pipeline, text)
    StateQuestionRouter({}).process([message])
    assert [e for e in message.get("entities") if e["entity"] == "us_state"] == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can nurses do acupuncture in ny", "ask_acupuncture_licensure"),
        ("dry needling by massage therapists in florida?", "ask_dry_needling_legality"),
        ("may chiropractors dry needle in iowa", "ask_dry_needling_legality"),
        ("who can do acupuncture in wisco", "ask_acupuncture_licensure"),
        ("can an MD do acupuncture in the buckeye state", "ask_acupuncture_licensure"),
        ("i live in honolulu can my pt do dry needling", "ask_dry_needling_legality"),
    ],
)
def test_professions_nicknames_and_cities(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, "faq")
    StateQuestionRouter({}).process([message])
    assert message.get("intent")["name"] == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("can a PT do dry needling there", "ask_dry_needling_legality"),
        ("who licenses acupuncture there anyway", "ask_acupuncture_licensure"),
        ("can a dentist do acupuncture in new york", "ask_acupuncture_licensure"),
    ],
)
def test_a_state_already_named_or_who_can_do_it(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text)
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}


@pytest.mark.parametrize("intent", ["ask_dry_needling_legality", "ask_acupuncture_licensure"])
def test_a_legality_question_that_names_no_treatment_takes_it_from_the_conversation(spacy_pipeline, intent):
    # The classifier guessed which treatment "it" is; the legal action reads the conversation.
    message = parsed(spacy_pipeline, "who can legally do it in georgia", intent)
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": "inform_state", "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("is it legal for a PT in ohio", "ask_dry_needling_legality"),
        ("can physios needle in texas", "ask_dry_needling_legality"),
        ("do you need a license in florida", "ask_acupuncture_licensure"),
        ("is it legal in ohio for an acupuncturist", "ask_acupuncture_licensure"),
    ],
)
def test_a_legality_question_that_says_which_keeps_its_intent(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, intent)
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": intent, "confidence": 0.4}


@pytest.mark.parametrize(
    "text",
    [
        "registered acupuncturist michigan vs licensed, whats the difference",
        "is acupuncture physician a real title in florida or made up",
        "acupuncturist in wisconsin calls herself a certified acupuncturist, is that the right title here",
        "do california acupuncturists take the nccaom boards",
        # What letters mean, asked with licensing: the state's licensing answer.
        "what does L.Ac mean in cali, is that the state license",
        "what does it take to be a licensed acupuncturist in north carolina",
    ],
)
def test_whether_a_title_is_the_states_gets_the_states_licensing_answer(spacy_pipeline, text):
    # The state's row names its title; the legal action offers what titles mean.
    message = parsed(spacy_pipeline, text, "faq")
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": "ask_acupuncture_licensure", "confidence": 1.0}


def test_a_title_with_dry_needling_in_a_state_is_the_dry_needling_question(spacy_pipeline):
    for text in (
        "can an L.Ac. do dry needling in ohio",
        "can an L.Ac. do dry needling in ohio, is that legal there",
    ):
        message = parsed(spacy_pipeline, text, "faq")
        StateQuestionRouter({}).process([message])
        assert message.get("intent") == {"name": "ask_dry_needling_legality", "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("and dry needling?", "inform_treatment"),
        ("ok what about cupping then", "inform_treatment"),
        ("and for tension headaches?", "inform_condition"),
        ("what about tension headaches?", "inform_condition"),
        ("How about chronic migraine", "inform_condition"),
    ],
)
def test_a_bare_follow_up_is_what_it_names(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, "faq")
    FollowUpRouter({}).process([message])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}


@pytest.mark.parametrize(
    "text",
    [
        "is dry needling safe?",
        "and does dry needling hurt",
        "what about dry needling for tension headaches",
        "tell me about tui na",
        "what's acupuncture?",
        "moxa??",
        '/inform_treatment{"treatment": "cupping"}',
    ],
)
def test_a_question_is_not_a_bare_follow_up(spacy_pipeline, text):
    message = parsed(spacy_pipeline, text, "faq")
    FollowUpRouter({}).process([message])
    assert message.get("intent") == {"name": "faq", "confidence": 0.4}


@pytest.mark.parametrize("text", ["and acupuncturists?", "what about acupuncturists"])
def test_acupuncturists_in_a_bare_follow_up_are_their_treatment(spacy_pipeline, text):
    message = parsed(spacy_pipeline, text, "faq")
    FollowUpRouter({}).process([message])
    assert message.get("intent") == {"name": "inform_treatment", "confidence": 1.0}
    [entity] = message.get("entities")
    assert (entity["entity"], entity["value"]) == ("treatment", "acupuncture")


@pytest.mark.parametrize(
    "text",
    ["are acupuncturists licensed in texas", "how are acupuncturists trained", "and physical therapists?"],
)
def test_practitioners_elsewhere_stay_practitioners(spacy_pipeline, text):
    message = parsed(spacy_pipeline, text, "faq")
    before = message.get("entities")
    FollowUpRouter({}).process([message])
    assert message.get("intent") == {"name": "faq", "confidence": 0.4}
    assert message.get("entities") == before


@pytest.mark.parametrize(
    ("text", "intent", "practitioners", "states"),
    [
        # "MD" is Maryland's code and a medical doctor's title: an article or possessive decides.
        ("is it legal for an MD to practise acupuncture", "faq", ["MD"], []),
        ("my MD suggested dry needling, is that a good idea", "faq", ["MD"], []),
        ("is dry needling legal in MD", "ask_dry_needling_legality", [], ["MD"]),
    ],
)
def test_a_state_code_that_is_a_title_is_the_practitioner(
    spacy_pipeline, text, intent, practitioners, states
):
    message = parsed(spacy_pipeline, text, "faq")
    StateQuestionRouter({}).process([message])
    entities = message.get("entities")
    assert [e["value"] for e in entities if e["entity"] == "practitioner"] == practitioners
    assert [e["value"] for e in entities if e["entity"] == "us_state"] == states
    assert message.get("intent")["name"] == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("look up licence demo-ac-00123 in TX", "nlu_fallback"),
        ("check licence DEMO-AC-00123", "ask_acupuncture_licensure"),
        ("can you verify AC 55871 for me", "faq"),
    ],
)
def test_a_licence_number_makes_a_licence_check(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, intent)
    LicenceNumberRouter({}).process([message])
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": "check_licence", "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("DEMO-AC-00123", "inform_licence_number"),
        ("I get 12 migraines a month, would 10 sessions help", "faq"),
        ("it costs $120 a session here, normal?", "faq"),
        ("since 2019 i have had tension headaches", "faq"),
    ],
)
def test_other_messages_keep_their_intent(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, intent)
    LicenceNumberRouter({}).process([message])
    assert message.get("intent") == {"name": intent, "confidence": 0.4}


@pytest.mark.parametrize(
    ("text", "intent", "routed"),
    [
        ("DOM?? what is that", "nlu_fallback", "faq"),
        ("what does that L.Ac. mean", "inform_state", "faq"),
        # What letters mean, in a state: the titles FAQ (which offers the state's answer).
        ("what is an A.P. in florida", "nlu_fallback", "faq"),
        ("AEMP after a name in washington state, what does it mean", "inform_state", "faq"),
        # Whether it is the state's title: the state's answer.
        ("is A.P. the real title in florida", "nlu_fallback", "ask_acupuncture_licensure"),
    ],
)
def test_what_a_title_means_is_the_titles_faq_and_whether_it_is_the_states_the_states_answer(
    spacy_pipeline, text, intent, routed
):
    message = parsed(spacy_pipeline, text, intent)
    message.set(
        "response_selector", {"faq": {"ranking": [{"intent_response_key": "faq/cac_and_other_titles"}]}}
    )
    StateQuestionRouter({}).process([message])
    assert message.get("intent") == {"name": routed, "confidence": 1.0}


def test_a_title_with_a_legality_question_is_still_about_the_state(spacy_pipeline):
    message = parsed(spacy_pipeline, "is an A.P. licensed in florida", "ask_acupuncture_licensure")
    message.set(
        "response_selector", {"faq": {"ranking": [{"intent_response_key": "faq/cac_and_other_titles"}]}}
    )
    StateQuestionRouter({}).process([message])
    assert message.get("intent")["name"] == "ask_acupuncture_licensure"


def test_a_state_code_that_is_a_credential_is_the_credential(spacy_pipeline):
    # "CA": California, or a certified acupuncturist after an article.
    message = parsed(spacy_pipeline, "whats the difference between a CA and a licensed acupuncturist", "faq")
    StateQuestionRouter({}).process([message])
    assert [e["value"] for e in message.get("entities") if e["entity"] == "credential"] == [
        "CA",
        "licensed acupuncturist",
    ]
    assert message.get("intent") == {"name": "faq", "confidence": 0.4}
    message = parsed(spacy_pipeline, "is dry needling legal in CA", "faq")
    StateQuestionRouter({}).process([message])
    assert [e["value"] for e in message.get("entities") if e["entity"] == "us_state"] == ["CA"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Whether to start, stop, skip, change or time a medicine: never advised.
        ("do i have to stop my blood thinner before getting acupuncture", "ask_medication_advice"),
        ("can i take ibuprofen after acupuncture", "ask_medication_advice"),
        ("is it ok to skip my triptan if acupuncture works", "ask_medication_advice"),
        ("do i need to stop taking aspirin before dry needling", "ask_medication_advice"),
        # Any medicine of the red-flag patterns' list (data/safety/red_flags.yml).
        ("can i take my eliquis before dry needling", "ask_medication_advice"),
        # How acupuncture and medicines fit together, in general: the FAQ answer.
        ("does acupuncture interact with my meds", "faq"),
        ("can i start acupuncture while on topiramate", "faq"),
        ("should i take acupuncture or meds", "faq"),
        ("i stopped my meds last week", "faq"),
        # Words of that list that are no medicine to start or stop.
        ("should i start sleeping on my back after acupuncture", "faq"),
    ],
)
def test_a_question_whether_to_change_a_medicine_is_medication_advice(spacy_pipeline, text, intent):
    message = parsed(spacy_pipeline, text, "faq")
    MedicationAdviceRouter({}).process([message])
    assert message.get("intent")["name"] == intent
