"""The credential actions: ``action_check_licence`` and ``action_find_practitioners``.

Answers say what the data shows (name, licence type, status, expiry, the data's source and
retrieval date), say expired/suspended/revoked plainly, and always point to the board's own
lookup for the live record: the bot never claims to have verified anyone.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import DataUnavailable, apologise_for_outage, run_blocking
from actions.credentials.boards import BoardDirectory, BoardInfo, LegalBoardDirectory
from actions.credentials.forms import (
    ATTEMPTS_SLOT,
    CITY_SLOT,
    NAME_SLOT,
    NUMBER_SLOT,
    PROFESSION_SLOT,
    US_STATE_SLOT,
)
from actions.credentials.wording import (
    MAX_LISTED,
    asked_about,
    licence_reply,
    load_credential_replies,
    search_reply,
)
from actions.reply_templates import ReplyTemplates
from actions.safety import SafetySettings, privacy_notice_events
from actions.store.licence_models import ACUPUNCTURE, PHYSICAL_THERAPY, name_key
from actions.store.licence_repository import (
    Coverage,
    LicenceRecord,
    LicenceRepository,
    split_name,
    sql_licence_repository,
)
from lexicon.licence_numbers import licence_number_key

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[], AbstractContextManager[LicenceRepository]]


@dataclass
class LicenceLookup:
    """Everything one licence-check answer needs (read in one worker-thread call)."""

    records: list[LicenceRecord] = field(default_factory=list)
    coverage: Coverage | None = None
    board: BoardInfo | None = None


class _CredentialAction(Action, ABC):
    """Repository, board directory, clock and wording come in through the constructor (tests
    pass fakes; the wording defaults to data/content/credential_replies.yml, read when first needed).

    Abstract (no ``name``), so the action server does not try to register it.
    """

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    def __init__(
        self,
        repository_factory: RepositoryFactory | None = None,
        board_directory: BoardDirectory | None = None,
        today: Callable[[], date] | None = None,
        safety_settings: SafetySettings | None = None,
        replies: ReplyTemplates | None = None,
    ) -> None:
        self._repository_factory = repository_factory or sql_licence_repository
        self._board_directory = board_directory or LegalBoardDirectory()
        self._today = today or date.today
        self._safety_settings = safety_settings
        self._replies = replies

    def replies(self) -> ReplyTemplates:
        """The wording given, else the shipped file's (read once)."""
        return self._replies or load_credential_replies()

    def _board(self, state: str) -> BoardInfo | None:
        try:
            return self._board_directory.lookup(state)
        except Exception as error:  # a missing board name must not cost the user the answer
            logger.warning("board directory failed: %s", type(error).__name__)
            return None


CHECK_RESET = [
    SlotSet(NUMBER_SLOT, None),
    SlotSet(NAME_SLOT, None),
    SlotSet(PROFESSION_SLOT, None),
    SlotSet(ATTEMPTS_SLOT, None),
]


class ActionCheckLicence(_CredentialAction):
    """Look a licence up by number or by name in one state and say what the data shows."""

    def name(self) -> str:
        return "action_check_licence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        state = tracker.get_slot(US_STATE_SLOT)
        number = tracker.get_slot(NUMBER_SLOT)
        name = tracker.get_slot(NAME_SLOT)
        if not state or not (number or name):
            return list(CHECK_RESET)  # the form was stopped; it has already said so
        try:
            lookup = await run_blocking(self._lookup, state, number, name)
        except DataUnavailable:
            apologise_for_outage(dispatcher)
            return list(CHECK_RESET)
        profession = tracker.get_slot(PROFESSION_SLOT)
        text, buttons = self.compose(state, number, name, profession, lookup, self._today())
        dispatcher.utter_message(text=text, buttons=buttons)
        if buttons:
            return list(CHECK_RESET)  # the reply ends with a question: nothing may follow it
        # The user may have typed a name: say what is kept and how to delete it.
        return list(CHECK_RESET) + privacy_notice_events(dispatcher, tracker, self._safety_settings)

    def _lookup(self, state: str, number: str | None, name: str | None) -> LicenceLookup:
        with self._repository_factory() as repository:
            if number:
                records = repository.find_by_number(state, number)
            else:
                first, last = split_name(name or "")
                records = repository.find_by_name(state, first, last or "")
            coverage = None if records else repository.coverage(state)
        return LicenceLookup(records=records, coverage=coverage, board=self._board(state))

    def compose(
        self,
        state: str,
        number: str | None,
        name: str | None,
        profession: str | None,
        lookup: LicenceLookup,
        today: date,
    ) -> tuple[str, list[dict[str, str]]]:
        """The reply text and buttons (no I/O but the wording's first read)."""
        replies = self.replies()
        asked = asked_about(replies, number, name)
        exact = _exact_match(lookup.records, number, name)
        return licence_reply(
            replies, state, asked, profession, lookup.records, lookup.coverage, lookup.board, exact, today
        )


def _exact_match(records: Sequence[LicenceRecord], number: str | None, name: str | None) -> bool:
    if number:
        key = licence_number_key(number)
        return any(licence_number_key(r.license_number) == key for r in records)
    _, last = split_name(name or "")

    def same_last_name(record: LicenceRecord) -> bool:
        stored = name_key(record.last_name)
        return last == stored or stored.startswith(f"{last} ") or stored.endswith(f" {last}")

    return any(same_last_name(r) for r in records)


SEARCH_RESET = [
    SlotSet(CITY_SLOT, None),
    SlotSet(PROFESSION_SLOT, None),
    SlotSet(ATTEMPTS_SLOT, None),
]


class ActionFindPractitioners(_CredentialAction):
    """List at most 5 active licences in a city, with the same caveats as a licence check."""

    def name(self) -> str:
        return "action_find_practitioners"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        state = tracker.get_slot(US_STATE_SLOT)
        city = tracker.get_slot(CITY_SLOT)
        if not state or not city:
            return list(SEARCH_RESET)
        profession = tracker.get_slot(PROFESSION_SLOT) or ACUPUNCTURE
        if profession not in (ACUPUNCTURE, PHYSICAL_THERAPY):
            profession = ACUPUNCTURE
        try:
            records, coverage, board = await run_blocking(self._search, city, state, profession)
        except DataUnavailable:
            apologise_for_outage(dispatcher)
            return list(SEARCH_RESET)
        dispatcher.utter_message(
            text=search_reply(
                self.replies(), city, state, profession, records, coverage, board, self._today()
            )
        )
        return list(SEARCH_RESET) + privacy_notice_events(dispatcher, tracker, self._safety_settings)

    def _search(
        self, city: str, state: str, profession: str
    ) -> tuple[list[LicenceRecord], Coverage | None, BoardInfo | None]:
        with self._repository_factory() as repository:
            records = repository.find_active_near(city, state, limit=MAX_LISTED + 1, profession=profession)
            coverage = None if records else repository.coverage(state)
        return records, coverage, self._board(state)
