"""Which FAQ answer a question asks for: a linear classifier over word and character n-grams.

The intent classifier (``nlp_pipeline.intents``) decides that a message is an FAQ question
(intent ``faq``); this component then ranks
the answer keys (``faq/<key>`` in data/nlu/faq). It replaces Rasa's ResponseSelector: a
regularised logistic regression over TF-IDF word 1-2 grams and character 2-5 grams
generalises better to wordings nobody here wrote (typos land near the right words through
the character n-grams) and trains in seconds instead of minutes (docs/understanding.md has
the measurements).

Its output has the ResponseSelector's shape (``response_selector.faq.response`` and
``.ranking`` with ``intent_response_key``), so Rasa sets the full retrieval intent
(``faq/<key>``) as it does for its own selector, and ``actions.faq`` reads the ranking as
before. It runs on messages whose intent is the retrieval intent, and on those where the intent
classifier nearly tied the retrieval intent with another one (within ``near_tie_margin``), so that
:class:`FaqNearTieRouter` can decide them after the fallback classifier.

config.yml::

    - name: nlp_pipeline.faq_topics.FaqTopicClassifier
      retrieval_intent: faq
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from ruamel.yaml import YAML
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline

from nlp_pipeline.overrides import ConfiguredComponent, override_intent
from nlp_pipeline.stored_model import StoredModelComponent

logger = logging.getLogger(__name__)

RESPONSE_SELECTOR = "response_selector"
# The answers' content files: each topic's ``aspect`` is its question type.
CONTENT_DIR = Path(__file__).resolve().parent.parent / "data" / "content" / "faq"


def question_types(content_dir: Path = CONTENT_DIR) -> dict[str, str]:
    """Answer key -> question type (the topic's ``aspect``: "pain", "side_effects", ...)."""
    types: dict[str, str] = {}
    for path in sorted(content_dir.glob("*.yml")):
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
        for topic in data.get("topics") or []:
            if isinstance(topic, dict) and topic.get("key") and topic.get("aspect"):
                types[str(topic["key"])] = str(topic["aspect"])
    return types


class LeanTfidfVectorizer(TfidfVectorizer):
    """scikit-learn's TF-IDF vectorizer (fitted as usual), with a lean ``transform`` for the one
    message of a turn: the same n-gram counts, sublinear tf, idf weights and l2 norm, without
    the per-call validation, the idf diagonal matrix built anew and the copies, which cost more
    than the arithmetic on one short text. Other settings use scikit-learn's own transform."""

    def transform(self, raw_documents: Any) -> sp.csr_matrix:
        if not (self.use_idf and self.sublinear_tf and self.norm == "l2"):
            return super().transform(raw_documents)
        analyse, vocabulary, idf = self._lean_parts()
        indptr = [0]
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for document in raw_documents:
            counts: dict[int, int] = {}
            for feature in analyse(document):
                index = vocabulary.get(feature)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            columns = np.array(sorted(counts), dtype=np.int32)
            row = np.array([counts[column] for column in columns.tolist()], dtype=np.float64)
            row = (np.log(row) + 1.0) * idf[columns]
            norm = np.sqrt(np.dot(row, row))
            if norm > 0:
                row /= norm
            indices.append(columns)
            values.append(row)
            indptr.append(indptr[-1] + len(columns))
        return sp.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(indptr) - 1, len(idf)),
        )

    def _lean_parts(self) -> tuple[Any, dict[str, int], np.ndarray]:
        """The analyser, vocabulary and idf weights, read once after fitting or loading."""
        parts = self.__dict__.get("_lean")
        if parts is None:
            parts = (self.build_analyzer(), self.vocabulary_, np.asarray(self.idf_, dtype=np.float64))
            self.__dict__["_lean"] = parts
        return parts

    def fit(self, raw_documents: Any, y: Any = None) -> LeanTfidfVectorizer:
        self.__dict__.pop("_lean", None)
        super().fit(raw_documents, y)
        return self

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        self.__dict__.pop("_lean", None)
        return super().fit_transform(raw_documents, y)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_lean", None)  # the analyser is rebuilt after loading
        return state


class LeanFeatureUnion(FeatureUnion):
    """scikit-learn's feature union, transforming without joblib's dispatch (one message a turn):
    the same matrices side by side."""

    def transform(self, X: Any) -> Any:
        if self.transformer_weights or any(
            t in (None, "drop", "passthrough") for _, t in self.transformer_list
        ):
            return super().transform(X)
        return sp.hstack([transformer.transform(X) for _, transformer in self.transformer_list]).tocsr()


def text_features() -> FeatureUnion:
    """TF-IDF word 1-2 grams and character 2-5 grams (typos land near the right words)."""
    return LeanFeatureUnion(
        [
            (
                "words",
                LeanTfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
            ),
            (
                "characters",
                LeanTfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True, min_df=2
                ),
            ),
        ]
    )


class LinearClassifier(LogisticRegression):
    """scikit-learn's logistic regression, with its coefficients kept column-major after
    fitting: predicting computes ``features @ coef_.T``, and with the default row-major
    ``coef_`` scipy copies the whole transposed matrix (labels x every n-gram) for each
    message; column-major, ``coef_.T`` is already the layout it needs. Same probabilities."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearClassifier:
        super().fit(X, y, sample_weight)
        self.coef_: np.ndarray = np.asfortranarray(getattr(self, "coef_"))  # noqa: B009 (untyped in sklearn)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """As scikit-learn's multinomial ``predict_proba`` (a softmax of ``X @ coef_.T +
        intercept_``), without its per-call validation; other settings use its own."""
        classes = getattr(self, "classes_", None)
        multinomial = self.multi_class in ("auto", "multinomial") and self.solver != "liblinear"
        if classes is None or classes.size <= 2 or not multinomial:
            return np.asarray(super().predict_proba(X))
        scores = np.asarray(X @ self.coef_.T) + getattr(self, "intercept_")  # noqa: B009
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores


def linear_classifier(regularisation: float, seed: int, class_weight: str | None = None) -> LinearClassifier:
    """A regularised logistic regression (``class_weight="balanced"`` weighs a label's examples
    by how rare it is)."""
    return LinearClassifier(C=regularisation, max_iter=3000, random_state=seed, class_weight=class_weight)


def topic_pipeline(regularisation: float, seed: int, class_weight: str | None = None) -> Pipeline:
    """:func:`text_features`, then :func:`linear_classifier`."""
    return make_pipeline(text_features(), linear_classifier(regularisation, seed, class_weight))


@dataclass
class TopicModels:
    """What is asked about which treatment (the answer key), and what is asked (its question
    type): a question about a treatment with one answer ("is electroacupuncture painful")
    leans on its words for the kind of question, not only on the treatment's name. Both
    classifiers read the same features, computed once per message."""

    features: FeatureUnion
    topics: LinearClassifier
    question_types: LinearClassifier | None
    question_type_of: dict[str, str]

    @classmethod
    def fit(
        cls,
        texts: list[str],
        labels: list[str],
        question_type_of: dict[str, str],
        regularisation: float,
        seed: int,
    ) -> TopicModels:
        """Train on (text, ``faq/<key>``) pairs; a key without a question type is its own type."""
        features = text_features()
        matrix = features.fit_transform(texts)
        topics = linear_classifier(regularisation, seed).fit(matrix, labels)
        models = cls(features, topics, None, question_type_of)
        kinds = [models.question_type(label) for label in labels]
        if len(set(kinds)) >= 2:
            models.question_types = linear_classifier(regularisation, seed).fit(matrix, kinds)
        return models

    def question_type(self, label: str) -> str:
        """The question type of ``faq/<key>`` (the key itself when its content has none)."""
        return self.question_type_of.get(label.split("/", 1)[-1], label)

    def ranking(self, text: str, question_type_weight: float) -> list[tuple[str, float]]:
        """(``faq/<key>``, confidence) for every key, best first: the topic's probability, mixed
        with its question type's probability shared among that type's keys by their own."""
        matrix = self.features.transform([text])
        keys = [str(key) for key in self.topics.classes_]
        scores = dict(zip(keys, (float(p) for p in self.topics.predict_proba(matrix)[0]), strict=True))
        if self.question_types is not None and question_type_weight > 0:
            type_probabilities = dict(
                zip(
                    (str(kind) for kind in self.question_types.classes_),
                    (float(p) for p in self.question_types.predict_proba(matrix)[0]),
                    strict=True,
                )
            )
            kind_of = {key: self.question_type(key) for key in keys}
            total_by_kind: dict[str, float] = {}
            for key in keys:
                total_by_kind[kind_of[key]] = total_by_kind.get(kind_of[key], 0.0) + scores[key]
            scores = {
                key: (1 - question_type_weight) * scores[key]
                + question_type_weight
                * type_probabilities.get(kind_of[key], 0.0)
                * (scores[key] / total_by_kind[kind_of[key]] if total_by_kind[kind_of[key]] else 0.0)
                for key in keys
            }
        return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def topic_examples(training_data: TrainingData, retrieval_intent: str) -> tuple[list[str], list[str]]:
    """(texts, ``<intent>/<key>`` labels) of the retrieval intent's training examples."""
    texts: list[str] = []
    labels: list[str] = []
    for example in training_data.intent_examples:
        label = example.get(INTENT_RESPONSE_KEY)
        if example.get(INTENT) == retrieval_intent and label and example.get(TEXT):
            texts.append(str(example.get(TEXT)))
            labels.append(str(label))
    return texts, labels


def selector_output(retrieval_intent: str, ranking: list[tuple[str, float]]) -> dict[str, Any]:
    """The ResponseSelector's output shape for a ranking of (``faq/<key>``, confidence), best first."""
    top_key, top_confidence = ranking[0]
    return {
        "all_retrieval_intents": [retrieval_intent],
        retrieval_intent: {
            "response": {
                "responses": None,
                "confidence": top_confidence,
                INTENT_RESPONSE_KEY: top_key,
                "utter_action": f"utter_{top_key}",
            },
            "ranking": [{"confidence": confidence, INTENT_RESPONSE_KEY: key} for key, confidence in ranking],
        },
    }


# The intent classifier's confidence in the retrieval intent at most this far below its best intent counts
# as a near tie (e.g. "faq" 0.31 against "ask_not_covered_yet" 0.32).
NEAR_TIE_MARGIN = 0.1


def near_tie(message: Message, intent: str, margin: float) -> bool:
    """Whether the intent classifier ranked ``intent`` within ``margin`` of its best other
    intent (the fallback classifier's ``nlu_fallback`` aside)."""
    confidences = {
        str(item.get(INTENT_NAME_KEY)): float(item.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        for item in message.get(INTENT_RANKING_KEY) or []
        if item.get(INTENT_NAME_KEY) != "nlu_fallback"
    }
    mine = confidences.pop(intent, 0.0)
    return mine > 0.0 and mine >= max(confidences.values(), default=0.0) - margin


# "what is an A.P. in florida", "DOM??": what a title means, whatever intent the state or the
# shortness of the message suggested (nlp_pipeline.routing.StateQuestionRouter makes it an FAQ).
_MEANING = re.compile(r"\b(?:what|whats|what's|mean|means|meaning|stand|stands|real|legit|title)\b|\?")
CREDENTIAL_QUESTION_INTENTS = frozenset({"nlu_fallback", "inform_state"})


def credential_question(message: Message) -> bool:
    """Whether the message asks about a credential named in it: what it means, whether it is
    real (see above)."""
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if intent not in CREDENTIAL_QUESTION_INTENTS:
        return False
    if not any(entity.get("entity") == "credential" for entity in message.get(ENTITIES) or []):
        return False
    return bool(_MEANING.search(str(message.get(TEXT) or "").lower()))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqTopicClassifier(StoredModelComponent[TopicModels]):
    """Ranks the FAQ answer keys of a message whose intent is the retrieval intent."""

    MODEL_FILE = "faq_topics.joblib"
    MODEL_TYPE = TopicModels
    # Trained without FAQ examples, or by older code (retrain): FAQ questions pass unranked.
    WITHOUT_MODEL = "no FAQ topic model in this model; FAQ questions get no ranking"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            "regularisation": 20.0,
            "ranking_length": 10,
            "random_seed": 42,
            "near_tie_margin": NEAR_TIE_MARGIN,
            # Share of the question-type classifier in the ranking (bench/faq_topic_crossval.py).
            "question_type_weight": 0.5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: TopicModels | None = None,
        content_dir: Path = CONTENT_DIR,
    ) -> None:
        super().__init__(config, model_storage, resource, model)
        self._content_dir = content_dir

    @property
    def retrieval_intent(self) -> str:
        return str(self._config["retrieval_intent"])

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = topic_examples(training_data, self.retrieval_intent)
        if len(set(labels)) < 2:
            logger.warning("fewer than two FAQ answer keys in the training data: nothing to train")
            return self._resource
        models = TopicModels.fit(
            texts,
            labels,
            question_types(self._content_dir),
            float(self._config["regularisation"]),
            int(self._config["random_seed"]),
        )
        return self._store(models)

    def ranking(self, text: str) -> list[tuple[str, float]]:
        """(``faq/<key>``, confidence) for ``text``, best first, at most ``ranking_length``."""
        if self._model is None:
            return []
        ranked = self._model.ranking(text, float(self._config["question_type_weight"]))
        return [
            (str(key), float(confidence)) for key, confidence in ranked[: int(self._config["ranking_length"])]
        ]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != self.retrieval_intent and not (
                near_tie(message, self.retrieval_intent, float(self._config["near_tie_margin"]))
                or credential_question(message)
            ):
                continue
            ranking = self.ranking(str(message.get(TEXT) or ""))
            if ranking:
                message.set(
                    RESPONSE_SELECTOR, selector_output(self.retrieval_intent, ranking), add_to_output=True
                )
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FaqNearTieRouter(ConfiguredComponent):
    """An FAQ question the intent classifier could not tell from "a theme we do not cover" (or
    that the fallback classifier therefore dropped) is answered when the topic classifier is
    sure of one answer: the retrieval intent within ``near_tie_margin`` of the best intent,
    and the first FAQ topic at ``min_topic_confidence`` or more. Runs after the
    FallbackClassifier; the red-flag detector still comes later and overrides everything."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            "near_tie_margin": NEAR_TIE_MARGIN,
            "min_topic_confidence": 0.6,
            "intents": ["nlu_fallback", "ask_not_covered_yet"],
        }

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval_intent = str(self._config["retrieval_intent"])
        for message in messages:
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) not in self._config["intents"]:
                continue
            if not near_tie(message, retrieval_intent, float(self._config["near_tie_margin"])):
                continue
            selected = (message.get(RESPONSE_SELECTOR) or {}).get(retrieval_intent) or {}
            best = (selected.get("response") or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0
            if float(best) < float(self._config["min_topic_confidence"]):
                continue
            diet = next(
                (
                    float(item.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                    for item in message.get(INTENT_RANKING_KEY) or []
                    if item.get(INTENT_NAME_KEY) == retrieval_intent
                ),
                0.0,
            )
            override_intent(message, retrieval_intent, confidence=diet)
            logger.debug("near tie decided for %s (topic confidence %.2f)", retrieval_intent, best)
        return messages
