"""What the project's own NLU components share: built from their config alone, and setting
an intent over the classifier's (first in the ranking, confidence 1.0)."""

from __future__ import annotations

from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

ComponentT = TypeVar("ComponentT", bound="ConfiguredComponent")


class ConfiguredComponent(GraphComponent):
    """A component that needs nothing but its config (nothing trained, nothing stored)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls: type[ComponentT],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ComponentT:
        return cls(config)


def override_intent(message: Message, name: str, confidence: float = 1.0, keep_ranking: bool = True) -> None:
    """Make ``name`` the message's intent, first in the ranking (without a second copy)."""
    intent = {INTENT_NAME_KEY: name, "confidence": confidence}
    ranking = [item for item in message.get(INTENT_RANKING_KEY) or [] if item.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(intent), *(ranking if keep_ranking else [])], add_to_output=True)
