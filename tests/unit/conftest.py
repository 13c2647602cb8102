"""Fixtures shared by the unit tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage

from tests.unit.rasa_originals import rasa_unpatched

__all__ = ["rasa_unpatched"]


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A unit test opens no network socket (servers, Redis, databases): those tests live in
    tests/integration or tests/e2e. Socket pairs inside the process (asyncio) are fine."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a unit test opened a network socket: move it to tests/integration")

    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, refuse)
    yield


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    """Rasa's model storage in a temporary folder, for the project's trained components."""
    return LocalModelStorage(tmp_path)


def context() -> ExecutionContext:
    """An execution context for creating or loading a component outside a graph."""
    return ExecutionContext(GraphSchema({}), "test")
