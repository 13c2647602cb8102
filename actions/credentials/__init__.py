"""Licence checks and practitioner searches: what our licence data says, plus the board's live lookup.

Two forms collect what is missing (``forms``):

- ``licence_check_form``: the state (shared slot ``us_state``, read by ``actions.states``) and a
  licence number (``licence_number``) or a name (``practitioner_name``), read from the text in
  any usual format ("AC 12345", "AC-12345", "ac12345" -> "AC12345"; "Is Jane Doe a licensed
  acupuncturist in Texas?"). ``action_check_licence`` answers.
- ``practitioner_search_form``: the state and a city (``search_city``);
  ``action_find_practitioners`` lists at most 5 active licences there.

Modules: ``text`` (reading licence numbers, names, cities), ``boards`` (the board directory),
``wording`` (puts the replies together; their words are in
``data/content/credential_replies.yml``), ``forms`` (the validation actions), ``actions`` (the answers).
"""

from actions.credentials.actions import ActionCheckLicence, ActionFindPractitioners
from actions.credentials.boards import BoardInfo, LegalBoardDirectory, StaticBoardDirectory
from actions.credentials.forms import ValidateLicenceCheckForm, ValidatePractitionerSearchForm
from actions.credentials.text import find_city, find_person_name, is_stop_request
from lexicon.licence_numbers import find_licence_number

__all__ = [
    "ActionCheckLicence",
    "ActionFindPractitioners",
    "BoardInfo",
    "LegalBoardDirectory",
    "StaticBoardDirectory",
    "ValidateLicenceCheckForm",
    "ValidatePractitionerSearchForm",
    "find_city",
    "find_licence_number",
    "find_person_name",
    "is_stop_request",
]
