"""nlp_pipeline.faq_topics: trains on the faq/<key> examples, ranks only FAQ messages, in the
ResponseSelector's output shape, and survives persisting and loading."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union

from actions.faq import ranked_topics
from nlp_pipeline.faq_topics import (
    FaqNearTieRouter,
    FaqTopicClassifier,
    TopicModels,
    linear_classifier,
    text_features,
)
from tests.unit.conftest import context

EXAMPLES = {
    "faq/cost": [
        "how much does it cost",
        "what is the price of a session",
        "is it expensive",
        "price per visit",
    ],
    "faq/acupuncture_pain": [
        "does acupuncture hurt",
        "is it painful",
        "will the needles hurt",
        "does it sting",
    ],
    "faq/insurance_coverage": [
        "does insurance cover it",
        "is it covered by my plan",
        "will medicare pay",
        "copay?",
    ],
}


def training_data() -> TrainingData:
    examples = [
        Message(data={"text": text, "intent": "faq", "intent_response_key": key})
        for key, texts in EXAMPLES.items()
        for text in texts
    ]
    examples.append(Message(data={"text": "hello there", "intent": "greet"}))
    return TrainingData(training_examples=examples)


def trained(storage: LocalModelStorage, resource: Resource) -> FaqTopicClassifier:
    component = FaqTopicClassifier.create({}, storage, resource, context())
    component.train(training_data())
    return component


def faq_message(text: str, intent: str = "faq") -> Message:
    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9}})


def test_an_faq_message_gets_a_ranking_in_the_response_selector_shape(storage):
    component = trained(storage, Resource("faq_topics"))

    [message] = component.process([faq_message("how much is a session, is it expensive")])

    output = message.as_dict_nlu()["response_selector"]
    assert output["all_retrieval_intents"] == ["faq"]
    assert output["faq"]["response"]["intent_response_key"] == "faq/cost"
    assert output["faq"]["response"]["utter_action"] == "utter_faq/cost"
    keys = [item["intent_response_key"] for item in output["faq"]["ranking"]]
    assert sorted(keys) == sorted(EXAMPLES)
    confidences = [item["confidence"] for item in output["faq"]["ranking"]]
    assert confidences == sorted(confidences, reverse=True) and sum(confidences) == pytest.approx(1.0)
    # What the FAQ action reads.
    assert ranked_topics(message.as_dict_nlu())[0].key == "cost"


def test_other_intents_get_no_ranking(storage):
    component = trained(storage, Resource("faq_topics"))

    [greeting, follow_up] = component.process(
        [faq_message("hello", "greet"), faq_message("and dry needling?", "inform_treatment")]
    )

    assert greeting.get("response_selector") is None
    assert follow_up.get("response_selector") is None


def test_the_trained_model_is_persisted_and_loaded(storage):
    resource = Resource("faq_topics")
    original = trained(storage, resource)

    loaded = FaqTopicClassifier.load({}, storage, resource, context())

    text = "does insurance pay for it"
    assert loaded.ranking(text) == original.ranking(text)
    assert loaded.ranking(text)[0][0] == "faq/insurance_coverage"


def test_without_faq_examples_nothing_is_ranked(storage):
    resource = Resource("faq_topics")
    component = FaqTopicClassifier.create({}, storage, resource, context())
    component.train(TrainingData(training_examples=[Message(data={"text": "hi", "intent": "greet"})]))

    loaded = FaqTopicClassifier.load({}, storage, resource, context())

    [message] = loaded.process([faq_message("how much does it cost")])
    assert message.get("response_selector") is None


def diet_message(text: str, ranking: list[tuple[str, float]], fallback: bool = False) -> Message:
    """A message as DIET (and, with ``fallback``, the FallbackClassifier) left it."""
    items = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    if fallback:
        items.insert(0, {"name": "nlu_fallback", "confidence": 0.6})
    return Message(data={"text": text, "intent": dict(items[0]), "intent_ranking": items})


def test_a_near_tie_with_the_retrieval_intent_is_ranked_too(storage):
    component = trained(storage, Resource("faq_topics"))
    tie = diet_message("is it expensive", [("ask_not_covered_yet", 0.32), ("faq", 0.31)])
    clear = diet_message("is it expensive", [("ask_not_covered_yet", 0.62), ("faq", 0.31)])

    component.process([tie, clear])

    assert ranked_topics(tie.as_dict_nlu())[0].key == "cost"
    assert clear.get("response_selector") is None


def test_a_near_tie_is_answered_when_the_topic_is_clear(storage):
    classifier = trained(storage, Resource("faq_topics"))
    router = FaqNearTieRouter.create({}, storage, Resource("router"), context())
    dropped = diet_message(
        "how much does it cost", [("ask_not_covered_yet", 0.34), ("faq", 0.3)], fallback=True
    )
    unsure_topic = diet_message("hmm", [("ask_not_covered_yet", 0.34), ("faq", 0.3)], fallback=True)
    not_a_tie = diet_message(
        "how much does it cost", [("ask_not_covered_yet", 0.5), ("faq", 0.3)], fallback=True
    )
    medicine = diet_message("how much does it cost", [("ask_medication_advice", 0.45), ("faq", 0.4)])

    router.process(classifier.process([dropped, unsure_topic, not_a_tie, medicine]))

    assert dropped.get("intent") == {"name": "faq", "confidence": 0.3}
    assert [item["name"] for item in dropped.get("intent_ranking")][:2] == ["faq", "nlu_fallback"]
    assert unsure_topic.get("intent")["name"] == "nlu_fallback"  # no topic is clear enough
    assert not_a_tie.get("intent")["name"] == "nlu_fallback"
    assert medicine.get("intent")["name"] == "ask_medication_advice"  # only the listed intents


QUESTION_TYPE_EXAMPLES = {
    "faq/acupuncture_pain": [
        "does acupuncture hurt",
        "is acupuncture painful",
        "will the needles hurt",
        "does it sting",
    ],
    "faq/cupping_pain": [
        "does cupping hurt",
        "is cupping painful",
        "will the cups hurt",
        "does cupping sting",
    ],
    "faq/electro_what_is": [
        "what is electroacupuncture",
        "electroacupuncture explained",
        "tell me about electroacupuncture",
        "electroacupuncture, what's that",
    ],
    "faq/acupuncture_what_is": ["what is acupuncture", "acupuncture explained", "tell me about acupuncture"],
}
ASPECTS = {
    "acupuncture_pain": "pain",
    "cupping_pain": "pain",
    "electro_what_is": "overview",
    "acupuncture_what_is": "overview",
}


def question_type_component(storage: LocalModelStorage, tmp_path: Path, weight: float) -> FaqTopicClassifier:
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    topics = "\n".join(f"  - key: {key}\n    aspect: {aspect}" for key, aspect in ASPECTS.items())
    (content / "faq.yml").write_text(f"version: 1\ntopics:\n{topics}\n", encoding="utf-8")
    component = FaqTopicClassifier(
        {"question_type_weight": weight}, storage, Resource(f"t{weight}"), content_dir=content
    )
    examples = [
        Message(data={"text": text, "intent": "faq", "intent_response_key": key})
        for key, texts in QUESTION_TYPE_EXAMPLES.items()
        for text in texts
    ]
    component.train(TrainingData(training_examples=examples))
    return component


def test_the_question_type_shares_its_probability_among_its_answers(storage, tmp_path):
    # Electroacupuncture has one answer (what it is); asked whether it hurts, the kind of
    # question carries the pain answers up (the FAQ action then says no electroacupuncture
    # answer exists and gives the nearest).
    text = "is electroacupuncture painful, does it hurt"
    blended = dict(question_type_component(storage, tmp_path, 0.5).ranking(text))
    topic_only = dict(question_type_component(storage, tmp_path, 0.0).ranking(text))

    assert sum(blended.values()) == pytest.approx(1.0)
    pain = blended["faq/acupuncture_pain"] + blended["faq/cupping_pain"]
    assert pain > topic_only["faq/acupuncture_pain"] + topic_only["faq/cupping_pain"]
    assert max(blended, key=blended.__getitem__) in {"faq/acupuncture_pain", "faq/cupping_pain"}


def test_keys_without_a_question_type_are_their_own_type(storage, tmp_path):
    # The content has no aspect for these keys: each is its own question type.
    component = question_type_component(storage, tmp_path, 0.5)
    component.train(training_data())

    assert component.ranking("how much is a session")[0][0] == "faq/cost"


def test_a_model_trained_before_question_types_ranks_nothing(storage):
    resource = Resource("faq_topics")
    with storage.write_to(resource) as directory:
        joblib.dump({"an": "older model"}, directory / "faq_topics.joblib")

    loaded = FaqTopicClassifier.load({}, storage, resource, context())

    [message] = loaded.process([faq_message("how much does it cost")])
    assert message.get("response_selector") is None


def test_a_model_pickled_by_older_code_ranks_nothing(storage):
    # Unpickled into today's class, an older TopicModels lacks the fields added since.
    older = object.__new__(TopicModels)
    older.__dict__.update({"topics": None, "question_types": None, "question_type_of": {}})
    resource = Resource("faq_topics")
    with storage.write_to(resource) as directory:
        joblib.dump(older, directory / "faq_topics.joblib")

    loaded = FaqTopicClassifier.load({}, storage, resource, context())

    [message] = loaded.process([faq_message("how much does it cost")])
    assert message.get("response_selector") is None


def test_the_linear_classifier_keeps_logistic_regressions_probabilities_in_the_fast_layout():
    texts = [text for texts in EXAMPLES.values() for text in texts]
    labels = [key for key, texts in EXAMPLES.items() for _ in texts]
    features = text_features().fit(texts)
    matrix = features.transform(texts)
    ours = linear_classifier(20.0, 42).fit(matrix, labels)
    plain = LogisticRegression(C=20.0, max_iter=3000, random_state=42).fit(matrix, labels)

    # coef_.T is then row-major: scipy multiplies a message's sparse row by it without a copy.
    assert ours.coef_.flags["F_CONTIGUOUS"] and ours.coef_.T.flags["C_CONTIGUOUS"]
    asked = features.transform(["is it pricey", "does it sting much"])
    assert np.allclose(ours.predict_proba(asked), plain.predict_proba(asked), rtol=1e-12, atol=1e-15)
    # It survives pickling in that layout (models are stored with joblib).
    assert pickle.loads(pickle.dumps(ours)).coef_.flags["F_CONTIGUOUS"]


def test_the_lean_features_are_scikit_learns_features():
    # The lean transform of one message (no per-call checks) gives scikit-learn's matrix.
    texts = [text for texts in EXAMPLES.values() for text in texts]
    ours = text_features().fit(texts)
    plain = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True, min_df=2),
    ).fit(texts)
    asked = ["is it pricey", "does it sting much", "DOES IT STING?? much much", "", "zzzz qqqq"]
    mine, theirs = ours.transform(asked), plain.transform(asked)
    assert mine.shape == theirs.shape
    theirs = theirs.sorted_indices()  # the same entries; scikit-learn leaves them unsorted
    assert np.array_equal(mine.indptr, theirs.indptr) and np.array_equal(mine.indices, theirs.indices)
    assert np.allclose(mine.data, theirs.data, rtol=1e-12, atol=1e-15)
    # Pickled (models are stored with joblib) and loaded, it still gives the same.
    assert np.allclose(pickle.loads(pickle.dumps(ours)).transform(asked).toarray(), theirs.toarray())
