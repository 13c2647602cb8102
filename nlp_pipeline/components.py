"""Rasa 3.6 graph components of the safety layer (issues 4 and 17).

``RedFlagDetector`` (NLU, runs last): when the deterministic triage of
``nlp_pipeline.red_flags`` recognises a description that needs urgent care, the
message's intent becomes ``red_flag`` with confidence 1.0, whatever the
classifier or the FallbackClassifier said, and the parse data says which rule
and which tier (crisis, poisoning, emergency, same_day). When context held a
rule back but the message speaks of a person, the intent becomes
``symptom_check_in`` instead: the bot asks whether it is happening now. The
classifier's own ``red_flag`` intent (trained on data/nlu/safety.yml) stays as
a second net: when no rule settles a message it called ``red_flag``, the
message gets the check-in too (rule ``classifier``), not emergency guidance,
unless the detector sees what the classifier cannot read (a negated symptom,
"my usual", "mild", a general question or history): then the classifier's next
intent stands.

``RedFlagPolicy`` (dialogue): RulePolicy lets an active form run before any
rule ("a loop has priority over any other rule except defaults"), and a form
only yields when it extracts nothing. A red-flag message that also fills a slot
("I'm in Texas and suddenly can't move my arm") would keep the form going. This
policy predicts ``action_red_flag_triage`` directly after every ``red_flag``
message (``action_triage_check_in`` after ``symptom_check_in``) with a higher
priority than RulePolicy, and marks the prediction as a
"no user" prediction (the same kind as RulePolicy's form prediction), so it
wins over forms in progress too; the action then ends the form.

config.yml::

    pipeline:
      ...
      - name: FallbackClassifier
      - name: nlp_pipeline.components.RedFlagDetector
    policies:
      - name: RulePolicy
      - name: nlp_pipeline.components.RedFlagPolicy
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from lexicon import PROJECT_ROOT
from nlp_pipeline.language import detect_language, languages_to_read
from nlp_pipeline.overrides import ConfiguredComponent, override_intent
from nlp_pipeline.red_flags import CHECK_IN, DEFAULT_MODEL, DEFAULT_PATTERNS, Analysis, RedFlagMatcher
from nlp_pipeline.red_flags_languages import DEFAULT_PATTERNS as OTHER_LANGUAGE_PATTERNS
from nlp_pipeline.red_flags_languages import LanguageMatch, OtherLanguageRedFlags

logger = logging.getLogger(__name__)

RED_FLAG_INTENT = "red_flag"
RED_FLAG_ACTION = "action_red_flag_triage"
CHECK_IN_INTENT = "symptom_check_in"
CHECK_IN_ACTION = "action_triage_check_in"
# Added to the parse data when the detector fired:
# {"rule": ..., "tier": ..., "source": "detector"} (and "candidate_tier" for a check-in).
RED_FLAG_KEY = "red_flag"
OTHER_LANGUAGE_INTENT = "other_language"
LANGUAGE_KEY = "language"


def _project_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(ConfiguredComponent):
    """A message in another language gets intent ``other_language`` (confidence 1.0) and
    ``language: <ISO 639-1 code>`` in the parse data (nlp_pipeline/language.py, issue 18).

    It runs before ``RedFlagDetector``, which still overrides it when an English red flag
    is in the message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intent": OTHER_LANGUAGE_INTENT}

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            language = detect_language(text) if isinstance(text, str) else None
            if language is None:
                continue
            override_intent(message, self._config["intent"], keep_ranking=False)
            message.set(LANGUAGE_KEY, language, add_to_output=True)
            logger.debug("message in another language: %s", language)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagDetector(ConfiguredComponent):
    """Overrides the intent with ``red_flag`` when the red-flag patterns match."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Paths are relative to the project root.
            "patterns": str(DEFAULT_PATTERNS.relative_to(PROJECT_ROOT)),
            "spacy_model": str(DEFAULT_MODEL.relative_to(PROJECT_ROOT)),
            "other_language_patterns": str(OTHER_LANGUAGE_PATTERNS.relative_to(PROJECT_ROOT)),
            "intent": RED_FLAG_INTENT,
            "check_in_intent": CHECK_IN_INTENT,
        }

    def __init__(
        self,
        config: dict[str, Any],
        matcher: RedFlagMatcher | None = None,
        other_languages: OtherLanguageRedFlags | None = None,
    ) -> None:
        super().__init__(config)
        self._matcher = matcher or RedFlagMatcher.from_files(
            patterns=_project_path(self._config["patterns"]),
            model=_project_path(self._config["spacy_model"]),
        )
        self._other_languages = other_languages or OtherLanguageRedFlags.from_yaml(
            _project_path(self._config["other_language_patterns"])
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Set intent ``red_flag`` or ``symptom_check_in`` (confidence 1.0, first in the
        ranking) on matching messages, with the rule and tier in ``red_flag``."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue
            analysis = self._matcher.analyse(text)
            match = analysis.match
            other = None if match is not None else self._other_language_match(message, text)
            if match is not None:
                found: dict[str, Any] = {"rule": match.rule, "tier": match.tier, "source": "detector"}
                if match.candidate_tier:
                    found["candidate_tier"] = match.candidate_tier
                urgent = match.urgent
            elif other is not None:
                # No check-in in another language: the bot cannot hold that conversation.
                found = {"rule": other.rule, "tier": other.tier, "source": "detector"}
                message.set(LANGUAGE_KEY, other.language, add_to_output=True)
                urgent = True
            elif (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == self._config["intent"]:
                if context_clears(analysis):
                    self._demote_classifier_red_flag(message)
                    continue
                # The classifier's red_flag with no rule behind it: ask, don't alarm.
                found = {
                    "rule": "classifier",
                    "tier": CHECK_IN,
                    "candidate_tier": "emergency",
                    "source": "classifier",
                }
                urgent = False
            else:
                continue
            if message.get(LANGUAGE_KEY):
                # The guidance is given in this language first (actions/triage.py).
                found["language"] = message.get(LANGUAGE_KEY)
            override_intent(message, self._config["intent"] if urgent else self._config["check_in_intent"])
            message.set(RED_FLAG_KEY, found, add_to_output=True)
            # The rule name only: never the message text.
            logger.debug("red-flag rule matched: %s (%s)", found["rule"], found["tier"])
        return messages

    def _other_language_match(self, message: Message, text: str) -> LanguageMatch | None:
        """The other-language rules of the message's language; when no language was told and
        the classifier understood nothing, those of ``languages_to_read``: a short message in
        Spanish may carry too few function words to be told, and an emergency must still be
        read."""
        language = message.get(LANGUAGE_KEY)
        if language:
            return self._other_languages.detect(text, str(language))
        if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == "nlu_fallback":
            return self._other_languages.detect_any(text, languages_to_read(text))
        return None

    def _demote_classifier_red_flag(self, message: Message) -> None:
        """The classifier's next intent replaces its red_flag."""
        ranking = [
            item
            for item in message.get(INTENT_RANKING_KEY) or []
            if item.get(INTENT_NAME_KEY) not in (self._config["intent"], "nlu_fallback")
        ]
        if not ranking:
            return
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        logger.debug("classifier red_flag set aside: the context clears it")


def context_clears(analysis: Analysis) -> bool:
    """What the detector reads and the classifier cannot: the symptom is denied, usual,
    mild, resolved or figurative, or the message is a general question or history."""
    return bool(
        analysis.negated
        or analysis.general_question
        or analysis.history
        or set(analysis.present) & {"usual_pattern", "mild", "resolved", "figurative"}
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RedFlagPolicy(Policy):
    """``red_flag`` -> ``action_red_flag_triage`` -> listen (``symptom_check_in`` ->
    ``action_triage_check_in`` -> listen), even while a form is active."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Above RulePolicy, so that equal confidences resolve in our favour.
            "priority": RULE_POLICY_PRIORITY + 2,
            "intent": RED_FLAG_INTENT,
            "action": RED_FLAG_ACTION,
            "check_in_intent": CHECK_IN_INTENT,
            "check_in_action": CHECK_IN_ACTION,
        }

    def _actions_by_intent(self) -> dict[str, str]:
        config = {**self.get_default_config(), **self.config}
        return {
            str(config["intent"]): str(config["action"]),
            str(config["check_in_intent"]): str(config["check_in_action"]),
        }

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn; the settings are saved so that the model is self-describing."""
        with self._model_storage.write_to(self._resource) as path:
            keys = ("priority", "intent", "action", "check_in_intent", "check_in_action")
            settings = {key: self.config.get(key) for key in keys}
            (Path(path) / "red_flag_policy.json").write_text(json.dumps(settings), encoding="utf-8")
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        actions = {
            intent: action
            for intent, action in self._actions_by_intent().items()
            if action in domain.action_names_or_texts
        }
        latest_action = tracker.latest_action_name
        latest_intent = (tracker.latest_message.intent if tracker.latest_message else {}).get(INTENT_NAME_KEY)
        if latest_action == ACTION_LISTEN_NAME and latest_intent in actions:
            probabilities[domain.index_for_action(actions[latest_intent])] = 1.0
        elif latest_action in actions.values():
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        else:
            return self._prediction(probabilities)
        # "No user" predictions are the ones RulePolicy gives an active form; only
        # among those does priority decide, so ours must be one too.
        return self._prediction(probabilities, is_no_user_prediction=True)
