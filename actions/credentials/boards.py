"""Where the live, official licence record can be checked: the board of each state."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BoardInfo:
    """The board that keeps a state's acupuncture licences, and its online lookup (if known)."""

    board_name: str
    lookup_url: str | None


class BoardDirectory(Protocol):
    """Where the live, official acupuncture licence record can be checked, per state."""

    def lookup(self, state_code: str) -> BoardInfo | None:
        """The board for ``state_code`` (USPS code), or None if unknown."""


class StaticBoardDirectory:
    """A fixed mapping (tests, or running without the legal data)."""

    def __init__(self, boards: dict[str, BoardInfo] | None = None) -> None:
        self._boards = dict(boards or {})

    def lookup(self, state_code: str) -> BoardInfo | None:
        return self._boards.get(state_code)


class LegalBoardDirectory:
    """The acupuncture board of the per-state licensure data (``acupuncture_board`` of the legal
    repository); None for a state without an acupuncture licence or while that data is unreadable."""

    def lookup(self, state_code: str) -> BoardInfo | None:
        # Imported at call time: tests swap the repository module in.
        from actions.store import legal_repository

        try:
            with legal_repository.sql_legal_repository() as repository:
                record = repository.acupuncture_board(state_code)
        except Exception as error:  # the board hint must never break the licence answer
            logger.warning("board lookup unavailable: %s", type(error).__name__)
            return None
        if record is None or not record.board_name or record.board_name.lower().startswith("none"):
            return None
        return BoardInfo(board_name=str(record.board_name), lookup_url=record.lookup_url or None)
