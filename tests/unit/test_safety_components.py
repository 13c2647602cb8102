"""The Rasa graph components of the safety layer: NLU override and the red-flag policy."""

from __future__ import annotations

import warnings

import pytest
from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from nlp_pipeline.components import RedFlagDetector, RedFlagPolicy
from nlp_pipeline.red_flags import RedFlagMatcher
from nlp_pipeline.red_flags_languages import OtherLanguageRedFlags


def make_domain(data: dict) -> Domain:
    """Domain.from_dict (from_yaml's schema check warns on Python 3.10); Rasa warns
    "slot auto-fill has been removed" for any domain with slots: expected here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Slot auto-fill has been removed", category=UserWarning)
        return Domain.from_dict(data)


DOMAIN = make_domain(
    {
        "intents": ["greet", "red_flag", "symptom_check_in", "inform_state"],
        "entities": ["us_state"],
        "slots": {"us_state": {"type": "text", "mappings": [{"type": "from_entity", "entity": "us_state"}]}},
        "forms": {"state_form": {"required_slots": ["us_state"]}},
        "actions": ["action_red_flag_triage", "action_triage_check_in", "action_greet"],
    }
)


@pytest.fixture(scope="module")
def detector(red_flag_matcher: RedFlagMatcher) -> RedFlagDetector:
    return RedFlagDetector({}, matcher=red_flag_matcher)


def classified(text: str, intent: str = "faq", confidence: float = 0.9) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}, {"name": "red_flag", "confidence": 0.05}],
        add_to_output=True,
    )
    return message


def test_red_flag_overrides_the_classifier_and_the_fallback(detector):
    for intent in ("faq", "nlu_fallback"):
        message = classified("the worst headache of my life, can acupuncture help?", intent)

        detector.process([message])

        assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
        ranking = message.get("intent_ranking")
        assert ranking[0] == {"name": "red_flag", "confidence": 1.0}
        assert [item["name"] for item in ranking].count("red_flag") == 1
        assert message.get("red_flag") == {"rule": "worst_ever", "tier": "emergency", "source": "detector"}
        assert "red_flag" in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("i keep thinking about ending it", "crisis"),
        ("my toddler swallowed some of my pills", "poisoning"),
        ("im 72 and my jaw aches when i chew", "same_day"),
    ],
)
def test_the_tier_travels_in_the_parse_data(detector, text, tier):
    message = classified(text)

    detector.process([message])

    assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert message.get("red_flag")["tier"] == tier


def test_a_held_back_rule_about_a_person_becomes_the_check_in_intent(detector):
    message = classified("can acupuncture cause a seizure? i'm worried about my son")

    detector.process([message])

    assert message.get("intent") == {"name": "symptom_check_in", "confidence": 1.0}
    assert message.get("red_flag") == {
        "rule": "seizure",
        "tier": "check_in",
        "candidate_tier": "emergency",
        "source": "detector",
    }


@pytest.mark.parametrize(
    "text",
    [
        "slept funny and my neck is stiff, no fever or anything",
        "my usual migraine again, same as always",
        "can acupuncture cause headaches in people?",
    ],
)
def test_the_classifiers_red_flag_is_set_aside_when_the_context_clears_it(detector, text):
    message = classified(text, "red_flag", 0.96)
    message.set(
        "intent_ranking",
        [{"name": "red_flag", "confidence": 0.96}, {"name": "faq", "confidence": 0.03}],
        add_to_output=True,
    )

    detector.process([message])

    assert message.get("intent") == {"name": "faq", "confidence": 0.03}
    assert message.get("red_flag") is None


def test_ordinary_messages_and_button_payloads_are_left_alone(detector):
    ordinary = classified("does acupuncture help migraine?")
    payload = classified('/choose_topic{"topic_key": "acupuncture_limits"}', "choose_topic")

    detector.process([ordinary, payload])

    assert ordinary.get("intent") == {"name": "faq", "confidence": 0.9}
    assert payload.get("intent") == {"name": "choose_topic", "confidence": 0.9}
    assert ordinary.get("red_flag") is None


def test_the_classifiers_red_flag_with_no_rule_behind_it_gets_the_check_in(detector):
    message = classified("something the patterns do not know", "red_flag", 0.93)

    detector.process([message])

    assert message.get("intent") == {"name": "symptom_check_in", "confidence": 1.0}
    assert message.get("red_flag") == {
        "rule": "classifier",
        "tier": "check_in",
        "candidate_tier": "emergency",
        "source": "classifier",
    }


def test_detector_config_defaults_point_at_the_project_files():
    config = RedFlagDetector.get_default_config()
    assert config["patterns"] == "data/safety/red_flags.yml"
    assert config["spacy_model"] == "build/spacy_en_headache"
    assert config["other_language_patterns"] == "data/safety/red_flags_other_languages.yml"


# ---------------------------------------------------------------- other languages
OTHER_LANGUAGES = OtherLanguageRedFlags.from_dict(
    {
        "languages": {
            "es": {"rules": [{"id": "es_worst", "tier": "emergency", "all": [["peor dolor de cabeza"]]}]},
            "pt": {"rules": [{"id": "pt_die", "tier": "crisis", "all": [["quero morrer"]]}]},
        }
    }
)


@pytest.fixture(scope="module")
def multilingual_detector(red_flag_matcher: RedFlagMatcher) -> RedFlagDetector:
    return RedFlagDetector({}, matcher=red_flag_matcher, other_languages=OTHER_LANGUAGES)


def in_language(text: str, language: str | None, intent: str = "other_language") -> Message:
    message = classified(text, intent, 1.0)
    if language:
        message.set("language", language, add_to_output=True)
    return message


def test_a_red_flag_in_the_messages_language_gets_guidance_in_it(multilingual_detector):
    message = in_language("tengo el peor dolor de cabeza de mi vida", "es")

    multilingual_detector.process([message])

    assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert message.get("red_flag") == {
        "rule": "es_worst",
        "tier": "emergency",
        "source": "detector",
        "language": "es",
    }


def test_only_the_told_languages_rules_are_read(multilingual_detector):
    message = in_language("quero morrer", "es")

    multilingual_detector.process([message])

    assert message.get("intent") == {"name": "other_language", "confidence": 1.0}
    assert message.get("red_flag") is None


def test_an_untold_language_is_read_by_every_language_only_when_nothing_was_understood(
    multilingual_detector,
):
    understood = in_language("quero morrer", None, intent="faq")
    not_understood = in_language("quero morrer", None, intent="nlu_fallback")

    multilingual_detector.process([understood, not_understood])

    assert understood.get("red_flag") is None
    assert not_understood.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert not_understood.get("red_flag")["tier"] == "crisis"
    assert not_understood.get("language") == "pt"


def test_an_english_red_flag_in_a_message_of_another_language_keeps_its_language(
    multilingual_detector,
):
    message = in_language("ayuda, worst headache of my life", "es")

    multilingual_detector.process([message])

    assert message.get("red_flag") == {
        "rule": "worst_ever",
        "tier": "emergency",
        "source": "detector",
        "language": "es",
    }


# ---------------------------------------------------------------- policy
@pytest.fixture
def policy(tmp_path) -> RedFlagPolicy:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    return RedFlagPolicy.create(
        RedFlagPolicy.get_default_config(), storage, Resource("red_flag_policy"), context
    )


def tracker_in_form(intent: str) -> DialogueStateTracker:
    """The state form asked for a state; the user answered with ``intent``."""
    return DialogueStateTracker.from_events(
        "user",
        [
            ActionExecuted("action_listen"),
            UserUttered("is dry needling legal", {"name": "inform_state"}),
            ActionExecuted("state_form"),
            ActiveLoop("state_form"),
            SlotSet("requested_slot", "us_state"),
            ActionExecuted("action_listen"),
            # The red-flag message also names a state: the form would accept it.
            UserUttered(
                "I'm in Texas and suddenly can't move my arm",
                {"name": intent},
                entities=[{"entity": "us_state", "value": "Texas"}],
            ),
            SlotSet("us_state", "Texas"),
        ],
        slots=DOMAIN.slots,
    )


def best_action(prediction: PolicyPrediction) -> str:
    return DOMAIN.action_names_or_texts[prediction.max_confidence_index]


def rule_policy_form_prediction() -> PolicyPrediction:
    """What RulePolicy predicts while a form is active (its loop "happy path")."""
    probabilities = [0.0] * DOMAIN.num_actions
    probabilities[DOMAIN.index_for_action("state_form")] = 1.0
    return PolicyPrediction(probabilities, "RulePolicy", RULE_POLICY_PRIORITY, is_no_user_prediction=True)


def test_policy_predicts_triage_after_a_red_flag_even_in_a_form(policy):
    prediction = policy.predict_action_probabilities(tracker_in_form("red_flag"), DOMAIN)

    assert best_action(prediction) == "action_red_flag_triage"
    assert prediction.max_confidence == 1.0
    assert prediction.is_no_user_prediction
    assert prediction.policy_priority > RULE_POLICY_PRIORITY


def test_policy_wins_over_rule_policy_keeping_the_form_going(policy):
    tracker = tracker_in_form("red_flag")
    ours = policy.predict_action_probabilities(tracker, DOMAIN)

    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [rule_policy_form_prediction(), ours], tracker, DOMAIN
    )

    assert winner.policy_name == "RedFlagPolicy"
    assert DOMAIN.action_names_or_texts[winner.max_confidence_index] == "action_red_flag_triage"


def test_policy_predicts_the_check_in_after_the_check_in_intent_even_in_a_form(policy):
    prediction = policy.predict_action_probabilities(tracker_in_form("symptom_check_in"), DOMAIN)

    assert best_action(prediction) == "action_triage_check_in"
    assert prediction.is_no_user_prediction

    tracker = tracker_in_form("symptom_check_in")
    tracker.update(ActionExecuted("action_triage_check_in"))
    assert best_action(policy.predict_action_probabilities(tracker, DOMAIN)) == "action_listen"


def test_policy_listens_after_the_triage_and_is_silent_otherwise(policy):
    tracker = tracker_in_form("red_flag")
    tracker.update(ActionExecuted("action_red_flag_triage"))
    after = policy.predict_action_probabilities(tracker, DOMAIN)
    assert best_action(after) == "action_listen"

    ordinary = policy.predict_action_probabilities(tracker_in_form("inform_state"), DOMAIN)
    assert ordinary.max_confidence == 0.0
    assert not ordinary.is_no_user_prediction


def test_policy_does_nothing_in_a_domain_without_the_action(policy):
    domain = make_domain({"intents": ["red_flag"], "actions": ["action_greet"]})
    tracker = DialogueStateTracker.from_events(
        "user", [ActionExecuted("action_listen"), UserUttered("x", {"name": "red_flag"})]
    )
    assert policy.predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_policy_training_saves_its_settings(policy, tmp_path):
    resource = policy.train([], DOMAIN)

    files = list(tmp_path.rglob("red_flag_policy.json"))
    assert resource == policy._resource and len(files) == 1
    assert '"action_red_flag_triage"' in files[0].read_text()


def test_an_english_message_nothing_understood_is_not_read_by_other_languages_rules(red_flag_matcher):
    spanglish = OtherLanguageRedFlags.from_dict(
        {"languages": {"es": {"rules": [{"id": "es_bad", "tier": "emergency", "all": [[r"\bbad\b"]]}]}}}
    )
    detector = RedFlagDetector({}, matcher=red_flag_matcher, other_languages=spanglish)
    english = in_language("it is a bad one, the usual", None, intent="nlu_fallback")
    mixed = in_language("la cabeza, it is bad", None, intent="nlu_fallback")

    detector.process([english, mixed])

    assert english.get("red_flag") is None
    assert mixed.get("red_flag")["rule"] == "es_bad"
