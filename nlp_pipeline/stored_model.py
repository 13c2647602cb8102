"""What the project's trained NLU components share: a model object kept in Rasa's model
storage with joblib, built from the config, and loaded back (or left out, with one warning,
when the stored model is missing or of another kind)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Generic, TypeVar

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT")
ComponentT = TypeVar("ComponentT", bound="StoredModelComponent[Any]")


class StoredModelComponent(GraphComponent, Generic[ModelT]):
    """A component whose trained model is one object saved in ``MODEL_FILE``."""

    MODEL_FILE = "model.joblib"
    # What the model must be an instance of to be used (an older kind is left out).
    MODEL_TYPE: type = object
    # Logged when there is no usable model: what the component then does.
    WITHOUT_MODEL = "no trained model"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: ModelT | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls: type[ComponentT],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ComponentT:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls: type[ComponentT],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ComponentT:
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / cls.MODEL_FILE)
        except (ValueError, FileNotFoundError):
            pass
        if not _current(model, cls.MODEL_TYPE):
            logger.warning("%s: %s", cls.__name__, cls.WITHOUT_MODEL)
            model = None
        return cls(config, model_storage, resource, model)

    def _store(self, model: ModelT) -> Resource:
        """Keep ``model`` for prediction and save it in the model storage."""
        self._model = model
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / self.MODEL_FILE)
        return self._resource


def _current(model: object, kind: type) -> bool:
    """Whether ``model`` is a ``kind`` as the code defines it now: a dataclass pickled by an
    older version of the code unpickles as the new class without the new fields."""
    if not isinstance(model, kind):
        return False
    return not dataclasses.is_dataclass(model) or all(
        hasattr(model, field.name) for field in dataclasses.fields(model)
    )
