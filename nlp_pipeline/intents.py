"""What kind of message it is (the intent): the same linear classifier as the FAQ topics.

A regularised logistic regression over TF-IDF word 1-2 grams and character 2-5 grams
(``nlp_pipeline.faq_topics.topic_pipeline``), trained on every intent's examples (the FAQ
examples all count as the retrieval intent ``faq``). It replaced DIET: it trains in seconds
instead of minutes and answers without a TensorFlow call (docs/understanding.md has the
measurements). Its output is DIET's: ``intent`` and ``intent_ranking``, so the fallback
classifier and the project's routers read it unchanged.

config.yml::

    - name: nlp_pipeline.intents.LinearIntentClassifier
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.pipeline import Pipeline

from nlp_pipeline.faq_topics import topic_pipeline
from nlp_pipeline.stored_model import StoredModelComponent

logger = logging.getLogger(__name__)


def intent_examples(training_data: TrainingData) -> tuple[list[str], list[str]]:
    """(texts, intents) of every intent example with a text."""
    pairs = [
        (str(example.get(TEXT)), str(example.get(INTENT)))
        for example in training_data.intent_examples
        if example.get(TEXT) and example.get(INTENT)
    ]
    return [text for text, _ in pairs], [intent for _, intent in pairs]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(StoredModelComponent[Pipeline]):
    """Sets ``intent`` and ``intent_ranking`` from a linear model over n-grams."""

    MODEL_FILE = "intents.joblib"
    MODEL_TYPE = Pipeline
    WITHOUT_MODEL = "no intent model in this model; messages get no intent"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"regularisation": 20.0, "class_weight": None, "ranking_length": 10, "random_seed": 42}

    def train(self, training_data: TrainingData) -> Resource:
        texts, intents = intent_examples(training_data)
        if len(set(intents)) < 2:
            logger.warning("fewer than two intents in the training data: nothing to train")
            return self._resource
        model = topic_pipeline(
            float(self._config["regularisation"]),
            int(self._config["random_seed"]),
            self._config["class_weight"],
        )
        model.fit(texts, intents)
        return self._store(model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        texts = [str(message.get(TEXT) or "") for message in messages]
        for message, probabilities in zip(messages, self._model.predict_proba(texts), strict=True):
            ranked = sorted(
                zip(self._model.classes_, probabilities, strict=True), key=lambda p: p[1], reverse=True
            )
            ranking = [
                {INTENT_NAME_KEY: str(name), PREDICTED_CONFIDENCE_KEY: float(confidence)}
                for name, confidence in ranked[: int(self._config["ranking_length"])]
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
