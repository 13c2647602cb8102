"""Guard for code that replaces or re-implements Rasa's private internals.

A patch (``speedups.py``) or an override (``tracker_store.py``) is only correct for
the Rasa source it was written against. Before using one, its owner asks
:func:`unchanged` whether the installed Rasa is the expected version and the
replaced function's source still has the recorded fingerprint; on any mismatch the
caller keeps Rasa's own code, and one log line says which patch stepped aside.
``tests/unit/test_rasa_guard.py`` fails when Rasa's source changes under a patch.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# The Rasa release every fingerprint below was taken from (pinned in constraints.txt).
EXPECTED_RASA_VERSION = "3.6.21"


def installed_rasa_version() -> str:
    from rasa.version import __version__

    return str(__version__)


def source_fingerprint(function: Callable[..., Any]) -> str:
    """The first 16 hex digits of the SHA-256 of the function's source text."""
    source = inspect.getsource(inspect.unwrap(function))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def unchanged(name: str, function: Callable[..., Any], expected_fingerprint: str) -> bool:
    """Whether ``function`` (Rasa's, about to be replaced) is the code ``name`` was
    written against; if not, log one line and return False."""
    version = installed_rasa_version()
    if version != EXPECTED_RASA_VERSION:
        logger.warning(
            "%s not applied: written for Rasa %s, found %s; using Rasa's own code",
            name,
            EXPECTED_RASA_VERSION,
            version,
        )
        return False
    try:
        fingerprint = source_fingerprint(function)
    except (OSError, TypeError):  # no source available (e.g. a compiled-only install)
        fingerprint = "unavailable"
    if fingerprint != expected_fingerprint:
        logger.warning(
            "%s not applied: the source of %s changed (fingerprint %s, expected %s); using Rasa's own code",
            name,
            getattr(function, "__qualname__", function),
            fingerprint,
            expected_fingerprint,
        )
        return False
    return True
