"""Reading licence numbers, names and cities from what people type."""

from __future__ import annotations

import pytest

from actions.credentials import find_city, find_licence_number, find_person_name, is_stop_request
from actions.store.licence_csv import split_full_name
from actions.store.licence_models import city_key, name_key, profession_for
from actions.store.licence_repository import split_name
from lexicon.licence_numbers import licence_number_key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Check licence AC 12345 in California", "AC12345"),
        ("AC-12345", "AC12345"),
        ("ac12345", "AC12345"),
        ("ac 12345", "AC12345"),
        ("look up licence ac12345 in oregon", "AC12345"),
        ("verify license number AC-12345", "AC12345"),
        ("DEMO-AC-00123", "DEMOAC00123"),
        ("check DEMO-AC-00123 in TX", "DEMOAC00123"),
        ("license no. AC4410", "AC4410"),
        ("license #AC-66023", "AC66023"),
        ("lic # 20931", "20931"),
        ("its ac-7781", "AC7781"),
        ("dom-0091", "DOM0091"),
        ("PT 40021", "PT40021"),
        ("my acupuncturist's license number is 30127", "30127"),
        ("look up license 88231 in washington", "88231"),
        ("12345", "12345"),
    ],
)
def test_licence_numbers_in_any_usual_format(text, key):
    found = find_licence_number(text)
    assert found is not None and found.key == key


@pytest.mark.parametrize(
    "text",
    [
        "is my acupuncturist licensed",
        "licensed since 2015, is she still ok",
        "call me on 512-555-0100",
        "I have had 3 sessions",
        "check licence in California",
    ],
)
def test_no_licence_number_where_there_is_none(text):
    assert find_licence_number(text) is None


def test_bare_digits_count_when_the_bot_asked_for_a_number():
    assert find_licence_number("it is 5512 I think") is None
    found = find_licence_number("it is 5512 I think", prompted=True)
    assert found is not None and found.key == "5512"


def test_the_number_span_is_reported_so_state_codes_inside_it_are_ignored():
    found = find_licence_number("check MD-12345 in Texas")
    assert found is not None and (found.key, found.start, found.end) == ("MD12345", 6, 14)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Is Jane Doe a licensed acupuncturist?", "Jane Doe"),
        ("is Dr. Sam Smith licensed in Florida", "Sam Smith"),
        ("check whether John Brown is licensed", "John Brown"),
        ("can you tell me if Kevin Park is an active licensed acupuncturist", "Kevin Park"),
        ("is Tom Baker's acupuncture license suspended", "Tom Baker"),
        ("run a licence check on Paula Green", "Paula Green"),
        ("verify the licence of Lee Wong", "Lee Wong"),
        ("is this acupuncturist legit? her name is Amy Chen", "Amy Chen"),
        ("is Rachel Adams, L.Ac. licensed in California", "Rachel Adams"),
        ("search the licence data for Ann Marie Kim", "Ann Marie Kim"),
        ("does Yuki Sato have a valid license in Nevada", "Yuki Sato"),
        ("does my acupuncturist Ana Souza have an active license", "Ana Souza"),
        ("look up the license of my physio Tom Hughes", "Tom Hughes"),
        ("is Tran Van Minh a real licensed acupuncturist", "Tran Van Minh"),
        ("has Marek Nowak's license been suspended", "Marek Nowak"),
        ("is Leila Farahani allowed to practice acupuncture", "Leila Farahani"),
        ("is Sean O'Brien licensed in Massachusetts", "Sean O'Brien"),
        ("is jane doe licensed", "Jane Doe"),
    ],
)
def test_names_in_a_question(text, name):
    assert find_person_name(text) == name


@pytest.mark.parametrize(
    "text",
    [
        "is my acupuncturist licensed",
        "can you verify my PT's licence",
        "check a license for me",
        "hello there",
    ],
)
def test_no_name_where_there_is_none(text):
    assert find_person_name(text) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Jane Example", "Jane Example"),
        ("jane example", "Jane Example"),
        ("her name is Maria Gonzalez", "Maria Gonzalez"),
        ("it's Susan Clarke", "Susan Clarke"),
        ("Dr. Michael Ross", "Michael Ross"),
        ("Sophie Martin, L.Ac.", "Sophie Martin"),
        ("the acupuncturist is called Grace Liu", "Grace Liu"),
        ("Kim", "Kim"),
    ],
)
def test_a_name_given_as_an_answer(text, name):
    assert find_person_name(text, answer=True) == name


@pytest.mark.parametrize(
    "text", ["i don't know", "what is dry needling", "is it safe?", "worst headache ever"]
)
def test_answers_that_are_not_names(text):
    assert find_person_name(text, answer=True) is None


def test_strict_reading_needs_two_capitalised_words():
    assert find_person_name("Jane Example", answer=True, strict=True) == "Jane Example"
    assert find_person_name("my head hurts", answer=True, strict=True) is None
    assert find_person_name("Kim", answer=True, strict=True) is None


@pytest.mark.parametrize(
    ("text", "spans", "answer", "city"),
    [
        ("Find a licensed acupuncturist near Austin, TX", [(43, 45)], False, "Austin"),
        ("find an acupuncturist in portland oregon", [(34, 40)], False, "Portland"),
        ("any licensed acupuncturists close to San Antonio?", [], False, "San Antonio"),
        ("search for acupuncturists in new york city", [], False, "New York"),
        ("austin", [], True, "Austin"),
        ("near Portland", [], True, "Portland"),
        ("I live in San Antonio", [], True, "San Antonio"),
        ("Kansas City", [], True, "Kansas City"),
    ],
)
def test_cities(text, spans, answer, city):
    assert find_city(text, spans, answer=answer) == city


@pytest.mark.parametrize(
    ("text", "spans", "answer"),
    [
        ("find a licensed acupuncturist near me", [], False),
        ("find a licensed acupuncturist in my town", [], False),
        ("find an acupuncturist in Texas", [(25, 30)], False),
        ("near me", [], True),
        ("in Texas", [(3, 8)], True),
    ],
)
def test_no_city(text, spans, answer):
    assert find_city(text, spans, answer=answer) is None


@pytest.mark.parametrize("text", ["stop", "Cancel", "never mind", "forget it.", "no thanks", "I don't know"])
def test_stop_requests(text):
    assert is_stop_request(text)


def test_a_question_is_not_a_stop_request():
    assert not is_stop_request("stop dry needling?")


def test_keys_fold_format_case_and_accents():
    assert licence_number_key("ac-12 345") == licence_number_key("AC12345") == "AC12345"
    assert name_key("José  O'Neil-Smith") == "jose o neil smith"
    assert city_key("St. Louis") == "st louis"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Dr. Jane Q. Example, L.Ac.", ("jane", "example")),
        ("Example, Jane", ("jane", "example")),
        ("jane example", ("jane", "example")),
        ("Example", (None, "example")),
        ("", (None, None)),
    ],
)
def test_split_name(text, parts):
    assert split_name(text) == parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Example, Jane A", ("Jane A", "Example")),
        ("Jane A Example", ("Jane A", "Example")),
        ("Cher", ("", "Cher")),
    ],
)
def test_split_full_name_from_a_board_export(text, parts):
    assert split_full_name(text) == parts


@pytest.mark.parametrize(
    ("licence_type", "profession"),
    [
        ("Licensed Acupuncturist", "acupuncture"),
        ("Doctor of Oriental Medicine", "acupuncture"),
        ("Acupuncture and Eastern Medicine Practitioner", "acupuncture"),
        ("Physical Therapist", "physical_therapy"),
        ("PT", "physical_therapy"),
        ("Doctor of Chiropractic", "chiropractic"),
        ("Physician and Surgeon", "medicine"),
        ("Massage Therapist", "other"),
    ],
)
def test_profession_from_licence_type(licence_type, profession):
    assert profession_for(licence_type) == profession
