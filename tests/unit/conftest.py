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

# The property tests (hypothesis, test_bad_input_properties.py) explore this many examples each
# in every run (make test, CI), except `make test-unit`, the inner loop, which selects the
# profile INNER_LOOP_PROFILE with --hypothesis-profile.
PROPERTY_EXAMPLES = 300
INNER_LOOP_PROFILE = "inner-loop"
INNER_LOOP_EXAMPLES = 50


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the full hypothesis profile before hypothesis's own plugin applies
    --hypothesis-profile (run first), and before the property tests are imported."""
    from hypothesis import settings

    settings.register_profile("full", max_examples=PROPERTY_EXAMPLES)
    settings.register_profile(INNER_LOOP_PROFILE, max_examples=INNER_LOOP_EXAMPLES)
    settings.load_profile("full")


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
