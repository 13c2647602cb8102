"""A question that names a US state is about that state (issue 18).

The classifier often misses state questions written in visitors' own words ("dry needling
hawii physical therapy yes or no", "nj pt dry needling allowed now?", "same deal in
oklahoma?"): it answers a general FAQ or asks to rephrase. The state itself is found
deterministically (the spaCy entity ruler, typos included), and so are the treatment and
the words of a legality question, so this component decides:

- a state + a legality word ("legal", "allowed", "license", "regulated", "rules", ...):
  the dry-needling question when dry needling is named, the acupuncture-licensing question
  when acupuncture is named, otherwise ``inform_state`` (the legal action then takes the
  question from the conversation, or asks which one with two buttons);
- a short message that is little more than a state ("south carolina too?"): ``inform_state``.

A question closing on a code that is also a word or a title ("legal in md", "rules in ok?") is
about that state. Whether a title is the state's ("is 'acupuncture physician' a real title in
florida", "registered vs licensed in michigan") gets the state's licensing answer, which names
the state's title; what letters mean ("what is an A.P. in florida", "DOM??") is the titles FAQ.

A message ending in "there" or "that state" refers to the state already named ("can a PT do
dry needling there"): the state form then completes with the remembered state.

It leaves alone the intents that already handle a state (legality, state list, licence
check, practitioner search, expectations), credential questions ("what is a DOM in
florida"), and the safety and language intents that run after it.

``FollowUpRouter`` does the same for a bare follow-up that names one treatment or one kind of
headache and nothing else ("and dry needling?", "what about tension headaches?"): it is
``inform_treatment`` / ``inform_condition``, whatever the classifier guessed, so the rules on
the previous answer ask the same question about what was just named.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from lexicon import (
    load_practitioners,
    load_treatments,
    normalize_term,
    refers_to_a_named_state,
    state_code_title,
    trailing_state_code,
)
from lexicon.licence_numbers import find_licence_number
from nlp_pipeline.faq_topics import RESPONSE_SELECTOR, credential_question
from nlp_pipeline.overrides import ConfiguredComponent, override_intent
from nlp_pipeline.red_flags import RedFlagSpec

logger = logging.getLogger(__name__)

DRY_NEEDLING_INTENT = "ask_dry_needling_legality"
ACUPUNCTURE_INTENT = "ask_acupuncture_licensure"
INFORM_STATE_INTENT = "inform_state"
FAQ_INTENT = "faq"
# Intents that already do the right thing with a state in the message.
KEEP_INTENTS = frozenset(
    {
        DRY_NEEDLING_INTENT,
        ACUPUNCTURE_INTENT,
        "ask_legal_state_list",
        "check_licence",
        "find_practitioner",
        "ask_expectations",
        "inform_licence_number",
        "inform_name",
        "red_flag",
        "forget_me",
        "request_human",
        "book_appointment",
        "ask_clinic_details",
    }
)
LEGAL_WORDS = frozenset(
    "legal legally illegal allowed allow allows permitted permit permits license licensed licence licenced "
    "licensing licensure licenses licences regulate regulated regulates regulation regulations rules rule "
    "law laws lawful requirement requirements required require board scope".split()
)
# Without a treatment named, a licence question is about acupuncture (dry needling has none).
LICENCE_WORDS = frozenset("license licensed licence licenced licensing".split())
# "vs", "difference", "mean": a question about titles ("registered vs licensed"), not the law.
TITLE_WORDS = frozenset("vs versus difference different mean means meaning stand stands".split())
# "can a dentist do acupuncture in new york", "who does it in ohio": who may practise.
_WHO_CAN = re.compile(
    r"\bcan (?:a|an|my|the)\b.*\b(?:do|perform|practi[cs]e|give|offer)\b"
    r"|\b(?:can|may|could) (?:nurses|chiropractors|chiros|doctors|physicians|mds|dos|dentists|naturopaths"
    r"|pts|physical therapists|physios|athletic trainers|massage therapists|acupuncturists|trainers|ots)\b"
    r"|\bwho(?:'s| is| are)? (?:can|may|could|does|do|gets to|is allowed to|are allowed to|allowed to)\b"
)
SHORT_MESSAGE_WORDS = 6
# "in me", "in or": words first; the state only when the question is about a state.
CODES_THAT_ARE_WORDS = frozenset({"HI", "IN", "ME", "OK", "OR"})
# "and in md?", "what about in hi": short enough to be about the state alone.
SHORT_FOLLOW_UP_WORDS = 4
_WORD = re.compile(r"[a-z]+")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class StateQuestionRouter(ConfiguredComponent):
    """Sends a message that names a state to the legality feature (see the module docstring)."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            add_trailing_state_code(message)
            relabel_titles(message)
            if (
                credential_question(message)
                and message.get(RESPONSE_SELECTOR)
                and not (names_a_state(message) and title_in_a_state(str(message.get(TEXT)), {"credential"}))
            ):
                # "DOM??", "what is an A.P. in florida": the titles answer (ranked already).
                override_intent(message, FAQ_INTENT)
                continue
            intent = route(message)
            if intent is not None:
                override_intent(message, intent)
                logger.debug("state question routed to %s", intent)
        return messages


def relabel_titles(message: Message) -> None:
    """A state code that is a title here ("can an MD do acupuncture", "a CA vs a licensed
    acupuncturist") becomes the practitioner or credential entity, so neither this router nor
    the actions read it as a state."""
    text = message.get(TEXT)
    entities = message.get(ENTITIES) or []
    if not isinstance(text, str) or not any(e.get("entity") == "us_state" for e in entities):
        return
    relabelled = []
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        kind = None
        if entity.get("entity") == "us_state" and isinstance(start, int) and isinstance(end, int):
            kind = state_code_title(text, start, end)
        relabelled.append({**entity, "entity": kind} if kind else entity)
    if relabelled != entities:
        message.set(ENTITIES, relabelled, add_to_output=True)


def names_a_state(message: Message) -> bool:
    """Whether the message names a state, or refers to the one named before ("there")."""
    text = message.get(TEXT)
    return any(e.get("entity") == "us_state" for e in message.get(ENTITIES) or []) or (
        isinstance(text, str) and refers_to_a_named_state(text)
    )


def add_trailing_state_code(message: Message) -> None:
    """A question closing on a code the entity ruler leaves alone because it is also a word or
    a title ("is dry needling legal in md", "acupuncture rules in ok?", "and in hi?", "what
    does DOM mean in nm") gets that state; whatever else was found on the code ("md": a
    physician) gives way. Codes that are everyday words need a question about a state."""
    text = message.get(TEXT)
    entities = message.get(ENTITIES) or []
    if not isinstance(text, str) or text.startswith("/"):
        return
    if any(entity.get("entity") == "us_state" for entity in entities):
        return
    found = trailing_state_code(text)
    if found is None:
        return
    code, start, end = found
    words = _WORD.findall(text.lower())
    about_a_state = (
        LEGAL_WORDS.intersection(words)
        or _WHO_CAN.search(text.lower())
        or len(words) <= SHORT_FOLLOW_UP_WORDS
    )
    if code in CODES_THAT_ARE_WORDS and not about_a_state:
        return
    kept = [e for e in entities if not (int(e.get("start", -1)) < end and int(e.get("end", -1)) > start)]
    state = {
        "entity": "us_state",
        "value": code,
        "start": start,
        "end": end,
        "extractor": "StateQuestionRouter",
    }
    message.set(ENTITIES, sorted([*kept, state], key=lambda e: int(e.get("start", -1))), add_to_output=True)


def route(message: Message) -> str | None:
    """The intent a message naming a state should have, or None to leave it alone."""
    text = message.get(TEXT)
    if not isinstance(text, str) or text.startswith("/"):
        return None
    entities = message.get(ENTITIES) or []
    kinds = {str(entity.get("entity")) for entity in entities}
    # "can a PT do dry needling there", "same state?": the state already named.
    if refers_to_a_named_state(text):
        kinds.add("us_state")
    if "us_state" not in kinds:
        return None
    named = (
        normalize_term(str(e.get("value")), load_treatments())
        for e in entities
        if e.get("entity") == "treatment"
    )
    treatments = {treatment for treatment in named if treatment}
    words = _WORD.findall(text.lower())
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if intent in (DRY_NEEDLING_INTENT, ACUPUNCTURE_INTENT) and _names_no_treatment(text, kinds, treatments):
        # "who can legally do it in georgia": the classifier guessed which treatment "it" is;
        # the conversation knows (the legal action reads it), or the visitor is asked.
        return INFORM_STATE_INTENT
    if intent in KEEP_INTENTS:
        return None
    if "dry_needling" not in treatments and title_in_a_state(text, kinds):
        # "is 'acupuncture physician' a real title in florida", "registered vs licensed in
        # michigan": the state's licensing answer names its title (the legal action then
        # offers what titles mean).
        return ACUPUNCTURE_INTENT
    if TITLE_WORDS.intersection(words):
        return None
    if LEGAL_WORDS.intersection(words) or _WHO_CAN.search(text.lower()):
        if "dry_needling" in treatments:
            return DRY_NEEDLING_INTENT
        if "acupuncture" in treatments or LICENCE_WORDS.intersection(words):
            return ACUPUNCTURE_INTENT
        return INFORM_STATE_INTENT
    if len(words) <= SHORT_MESSAGE_WORDS and not treatments:
        return INFORM_STATE_INTENT
    if "dry_needling" in treatments and ("practitioner" in kinds or len(words) <= SHORT_MESSAGE_WORDS):
        # "dry needling NY physical therapist", "sc dry needling pt": a state, dry needling and a profession.
        return DRY_NEEDLING_INTENT
    return None


_ACUPUNCTURE_TITLE = re.compile(
    r"acupuncturist|\btitles?\b|\bcalls? (?:him|her|them)sel(?:f|ves)\b|\bboards?\b"
)
# Whether a title is the state's ("is 'acupuncture physician' a real title in florida", "is that
# the right title here", "registered vs licensed in michigan"): the state's licensing answer.
_STATE_TITLE_QUESTION = re.compile(
    r"\b(?:real|legit|legitimate|right|proper|protected|actual|official|recogni[sz]ed|legal|allowed|valid)\b"
    r"[^.?!]{0,25}\btitles?\b|\btitles?\b[^.?!]{0,20}\b(?:there|here|protected|legal|allowed)\b"
    r"|\bvs\b|\bversus\b|\bdifferen"
)
# What letters mean ("what is a DOM", "AEMP, what does it mean", "is that an MD?"): the titles FAQ.
_MEANING_QUESTION = re.compile(
    r"\bwhat(?:'s|s)?\b|\bmeans?\b|\bmeaning\b|\bstands? for\b"
    r"|\b(?:a|an) (?:md|medical doctor|real doctor|doctor)\b"
)


def asks_for_a_states_title(text: str) -> bool:
    """Whether the message asks which title is the state's, or if one is (see above)."""
    return bool(_STATE_TITLE_QUESTION.search(text.lower()))


def title_in_a_state(text: str, kinds: set[str]) -> bool:
    """Whether a message that names a state asks about the state's titles or licence: whether a
    title is the state's, two titles compared, or a credential named with no question of what
    it means ("do california acupuncturists take the nccaom boards"). What letters mean is the
    titles FAQ (which then offers the state's answer), unless licensing is asked too."""
    lowered = text.lower()
    if not ("credential" in kinds or _ACUPUNCTURE_TITLE.search(lowered)):
        return False
    if asks_for_a_states_title(lowered):
        return True
    # "what does it take to be a licensed acupuncturist in north carolina": licensing, asked.
    return "credential" in kinds and (
        not _MEANING_QUESTION.search(lowered) or bool(LEGAL_WORDS.intersection(_WORD.findall(lowered)))
    )


# Words that say which legality question it is without naming the treatment: a dry needling
# question names who does it ("pt", "physio"), an acupuncture one the practitioner or licence.
_TREATMENT_HINT = re.compile(
    r"dry|needl|\bdn\b|acupunct|acupuntur|licen[cs]|\bl\.?ac\b|\bpts?\b|physio|therap|chiro|doctor|\bmds?\b"
)


def _names_no_treatment(text: str, kinds: set[str], treatments: set[str]) -> bool:
    """Whether a state question leaves the treatment to the conversation ("do it", "that")."""
    return not treatments and "practitioner" not in kinds and not _TREATMENT_HINT.search(text.lower())


CHECK_LICENCE_INTENT = "check_licence"
# Intents that already handle a licence number, or must not be overridden.
LICENCE_KEEP_INTENTS = frozenset(
    {CHECK_LICENCE_INTENT, "inform_licence_number", "find_practitioner", "forget_me", "request_human"}
)


class PatternRouter(ConfiguredComponent):
    """A message the project recognises deterministically gets ``INTENT`` whatever the
    classifier guessed, unless its intent is one of ``KEEP``."""

    INTENT: str
    KEEP: frozenset[str]

    @staticmethod
    def matches(text: str) -> bool:
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in self.KEEP:
                continue
            if self.matches(text):
                override_intent(message, self.INTENT)
                logger.debug("%s: routed to %s", type(self).__name__, self.INTENT)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LicenceNumberRouter(PatternRouter):
    """A message with a licence number in it ("look up licence demo-ac-00123 in TX") is a
    licence check, whatever the classifier guessed: a number shaped like a licence is found
    deterministically (``lexicon.licence_numbers``), the classifier has seen few of them."""

    INTENT = CHECK_LICENCE_INTENT
    KEEP = LICENCE_KEEP_INTENTS

    @staticmethod
    def matches(text: str) -> bool:
        return find_licence_number(text) is not None


INFORM_TREATMENT_INTENT = "inform_treatment"
INFORM_CONDITION_INTENT = "inform_condition"
# Words a bare follow-up may have besides the treatment or condition it names.
# At least one is needed: a bare name ("moxa??") is left to the classifier ("what is moxa").
FOLLOW_UP_WORDS = frozenset(
    "and about for with then too also ok okay so same question the a an in case of or instead my".split()
)
_WHAT_ABOUT = re.compile(r"\b(?:what|how) about\b")
# What the follow-up names -> its intent.
FOLLOW_UP_INTENTS = {"treatment": INFORM_TREATMENT_INTENT, "condition": INFORM_CONDITION_INTENT}
# A practitioner who practises one treatment only: "and acupuncturists?" asks about acupuncture.
PRACTITIONER_TREATMENTS = {"acupuncturist": "acupuncture"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FollowUpRouter(ConfiguredComponent):
    """Makes a bare follow-up ("and dry needling?") inform_treatment or inform_condition."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            practitioner_as_treatment(message)
            intent = follow_up_intent(message)
            if intent is not None and (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != intent:
                override_intent(message, intent)
                logger.debug("bare follow-up routed to %s", intent)
        return messages


def practitioner_as_treatment(message: Message) -> None:
    """In a bare follow-up, "acupuncturists" names their treatment: the entity becomes the
    treatment (acupuncture), so the follow-up asks the last question about it."""
    entities = message.get(ENTITIES) or []
    if len(entities) != 1 or entities[0].get("entity") != "practitioner":
        return
    treatment = PRACTITIONER_TREATMENTS.get(
        str(normalize_term(entities[0].get("value"), load_practitioners()))
    )
    if treatment is None:
        return
    as_treatment = [{**entities[0], "entity": "treatment", "value": treatment}]
    if bare_follow_up_intent(message.get(TEXT), as_treatment) is not None:
        message.set(ENTITIES, as_treatment, add_to_output=True)


def follow_up_intent(message: Message) -> str | None:
    """inform_treatment / inform_condition for a message that is only "and <one thing>?"."""
    return bare_follow_up_intent(message.get(TEXT), message.get(ENTITIES) or [])


def bare_follow_up_intent(text: object, found: list[dict]) -> str | None:
    """The follow-up intent of ``text`` with the entities ``found`` in it, or None."""
    if not isinstance(text, str) or text.startswith("/"):
        return None
    entities = [e for e in found if isinstance(e.get("start"), int)]
    if len(entities) != 1 or entities[0].get("entity") not in FOLLOW_UP_INTENTS:
        return None
    entity = entities[0]
    rest = _WHAT_ABOUT.sub("about", (text[: entity["start"]] + " " + text[entity["end"] :]).lower())
    words = set(_WORD.findall(rest))
    if not words or not words <= FOLLOW_UP_WORDS:
        return None
    return FOLLOW_UP_INTENTS[str(entity["entity"])]


MEDICATION_ADVICE_INTENT = "ask_medication_advice"
# Intents a medicine question must not take over (the safety intents run after this anyway).
MEDICATION_KEEP_INTENTS = frozenset({MEDICATION_ADVICE_INTENT, "red_flag", "forget_me", "request_human"})
# Words of the red-flag patterns' medicine list (data/safety/red_flags.yml, ``medicine_word``)
# that name what is swallowed, not a medicine one starts or stops ("start sleeping on my back").
_NOT_A_MEDICINE = frozenset({"sleeping", "dose", "doses", "bottle", "packet", "blister", "oxy"})
# Medicines named in more than one word, or as a kind of medicine (the list holds single words).
_MEDICINE_PHRASES = ("blood thinners?", "beta blockers?", "pain killers?", "preventives?", "preventatives?")


@lru_cache(maxsize=1)
def _medicine_change() -> re.Pattern[str]:
    """ "do i have to stop my blood thinner before acupuncture", "can i take ibuprofen after a
    session": whether to start, stop, skip, change or time a medicine is for the prescriber.
    The medicines are the red-flag patterns' (one list for both)."""
    words = RedFlagSpec.from_yaml().lists["medicine_word"]
    names = sorted({re.escape(word) for word in words if word not in _NOT_A_MEDICINE}, key=len, reverse=True)
    medicine = "(?:" + "|".join([*_MEDICINE_PHRASES, *names]) + ")"
    return re.compile(
        r"\b(?:should i|do i (?:have|need) to|can i|could i|is it (?:ok|okay|safe|fine) to|ok to|okay to|"
        r"must i|need to|supposed to|would i (?:have|need) to)\s+(?:\w+\s+){0,2}?"
        r"(?:stop|quit|skip|come off|go off|get off|pause|hold|cut down on|cut back on|reduce|lower|"
        r"increase|double|change|switch|start|take|taking|stopping)\s+"
        r"(?:(?:taking|using|my|the|your|his|her|their|our|all|any|of|off|on|daily|usual|regular|normal)\s+){0,3}"
        + medicine
        + r"\b",
        re.IGNORECASE,
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MedicationAdviceRouter(PatternRouter):
    """A question whether to start, stop, skip, change or time a medicine ("do i have to stop my
    blood thinner before getting acupuncture") is ``ask_medication_advice``, whatever the
    classifier guessed: the bot never advises on medicines, and says who can (the decline
    offers what it can explain: how acupuncture and medicines fit together in general)."""

    INTENT = MEDICATION_ADVICE_INTENT
    KEEP = MEDICATION_KEEP_INTENTS

    @staticmethod
    def matches(text: str) -> bool:
        return _medicine_change().search(text) is not None
