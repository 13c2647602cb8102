"""Fixtures shared by the unit tests."""

from tests.unit.rasa_originals import rasa_unpatched

__all__ = ["rasa_unpatched"]
