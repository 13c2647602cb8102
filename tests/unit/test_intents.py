"""nlp_pipeline.intents: trains on every intent's examples (FAQ examples as the retrieval
intent), sets ``intent`` and ``intent_ranking`` as DIET did, and survives persisting and loading."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlp_pipeline.intents import LinearIntentClassifier, intent_examples
from tests.unit.conftest import context

EXAMPLES = {
    "greet": ["hello", "hi there", "good morning", "hey"],
    "goodbye": ["bye", "see you later", "goodbye then", "cheers, bye"],
    "faq": ["does acupuncture hurt", "how much does it cost", "is dry needling safe", "what is tui na"],
}


def training_data() -> TrainingData:
    examples = [
        Message(data={"text": text, "intent": intent}) for intent, texts in EXAMPLES.items() for text in texts
    ]
    # The FAQ examples carry their answer key too; they still count as the retrieval intent.
    examples.append(
        Message(data={"text": "is acupuncture painful", "intent": "faq", "intent_response_key": "faq/pain"})
    )
    return TrainingData(training_examples=examples)


def trained(storage: LocalModelStorage, resource: Resource, **config: object) -> LinearIntentClassifier:
    component = LinearIntentClassifier.create(dict(config), storage, resource, context())
    component.train(training_data())
    return component


def test_examples_are_every_intent_with_a_text():
    texts, intents = intent_examples(training_data())

    assert len(texts) == len(intents) == 13
    assert intents.count("faq") == 5 and set(intents) == set(EXAMPLES)


def test_a_message_gets_the_intent_and_a_ranking_in_diets_shape(storage):
    component = trained(storage, Resource("intents"))

    [hello, question] = component.process(
        [Message(data={"text": "hello there!"}), Message(data={"text": "does it hurt much"})]
    )

    assert hello.get("intent")["name"] == "greet"
    assert question.get("intent")["name"] == "faq"
    ranking = question.as_dict_nlu()["intent_ranking"]
    assert ranking[0]["name"] == "faq"
    assert sorted(item["name"] for item in ranking) == sorted(EXAMPLES)
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True) and sum(confidences) == pytest.approx(1.0)
    assert question.get("intent") == ranking[0]


def test_the_ranking_is_cut_at_its_configured_length(storage):
    component = trained(storage, Resource("intents"), ranking_length=2)

    [message] = component.process([Message(data={"text": "bye bye"})])

    assert message.get("intent_ranking")[0]["name"] == "goodbye"
    assert len(message.get("intent_ranking")) == 2


def test_the_trained_model_is_persisted_and_loaded(storage):
    resource = Resource("intents")
    original = trained(storage, resource)

    loaded = LinearIntentClassifier.load({}, storage, resource, context())

    [before] = original.process([Message(data={"text": "what is tui na exactly"})])
    [after] = loaded.process([Message(data={"text": "what is tui na exactly"})])
    assert after.get("intent_ranking") == before.get("intent_ranking")


def test_with_one_intent_nothing_is_trained_and_messages_pass_through(storage):
    resource = Resource("intents")
    component = LinearIntentClassifier.create({}, storage, resource, context())
    component.train(TrainingData(training_examples=[Message(data={"text": "hi", "intent": "greet"})]))

    loaded = LinearIntentClassifier.load({}, storage, resource, context())

    [message] = loaded.process([Message(data={"text": "hello"})])
    assert message.get("intent") is None
