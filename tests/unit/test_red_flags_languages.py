"""Red flags written in another language: folding, the rule format and its checks, matching
(nlp_pipeline/red_flags_languages.py), with small in-code specs."""

from __future__ import annotations

import pytest

from nlp_pipeline.red_flags_languages import (
    LanguageMatch,
    OtherLanguageRedFlags,
    OtherLanguageSpecError,
    fold,
)

SPEC = {
    "languages": {
        "es": {
            "unless": [r"\bhace (\d+|muchos|varios) anos\b"],
            "rules": [
                {"id": "es_worst", "tier": "emergency", "all": [[r"peor dolor", r"me exploto la cabeza"]]},
                {
                    "id": "es_fever_neck",
                    "tier": "emergency",
                    "all": [[r"fiebre", r"calentura"], [r"cuello (rigido|tieso|duro)"]],
                    "unless": [r"\bpuede\b"],
                },
                {"id": "es_die", "tier": "crisis", "all": [[r"quiero morir(me)?"]]},
                {"id": "es_pain_50", "tier": "same_day", "all": [[r"\b(5\d|6\d) anos\b"], [r"dolor nuevo"]]},
            ],
        },
        "zh": {"rules": [{"id": "zh_worst", "tier": "emergency", "all": [["最严重的头痛", "最嚴重的頭痛"]]}]},
        "ko": {"rules": [{"id": "ko_worst", "tier": "emergency", "all": [["최악의 두통"]]}]},
    }
}


@pytest.fixture(scope="module")
def flags() -> OtherLanguageRedFlags:
    return OtherLanguageRedFlags.from_dict(SPEC)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("CABÉZA", "cabeza"),
        ("¿Me explotó la cabeza?", "¿me exploto la cabeza?"),
        ("đau đầu", "đau đau"),
        ("최악의 두통", "최악의 두통"),
        ("ずつう", "すつう"),
    ],
)
def test_fold_drops_marks_and_case_and_keeps_syllables(text, folded):
    assert fold(text) == folded


def test_accents_case_and_typing_without_accents_match_alike(flags):
    for text in ("Tengo el PEOR DOLOR de cabeza", "me explotó la cabeza", "me exploto la cabeza"):
        assert flags.detect(text, "es") == LanguageMatch("es_worst", "emergency", "es")


def test_every_group_of_a_rule_must_match(flags):
    expected = LanguageMatch("es_fever_neck", "emergency", "es")
    assert flags.detect("tengo fiebre y el cuello tieso", "es") == expected
    assert flags.detect("tengo fiebre desde ayer", "es") is None


def test_unless_of_a_rule_and_of_a_language_clear_the_message(flags):
    assert flags.detect("la fiebre con cuello rigido puede ser grave?", "es") is None
    assert flags.detect("hace 10 anos tuve el peor dolor de mi vida", "es") is None


def test_the_most_urgent_tier_wins_whatever_the_order_in_the_file(flags):
    match = flags.detect("el peor dolor, ya quiero morirme", "es")
    assert match == LanguageMatch("es_die", "crisis", "es")


def test_scripts_without_spaces_match_substrings(flags):
    assert flags.detect("我现在是最严重的头痛", "zh") == LanguageMatch("zh_worst", "emergency", "zh")
    assert flags.detect("我現在是最嚴重的頭痛", "zh") == LanguageMatch("zh_worst", "emergency", "zh")
    assert flags.detect("갑자기 최악의 두통이에요", "ko") == LanguageMatch("ko_worst", "emergency", "ko")


def test_a_language_with_no_rules_matches_nothing(flags):
    assert flags.detect("el peor dolor", "pt") is None
    assert flags.languages == frozenset({"es", "zh", "ko"})


def test_detect_any_reads_every_language_and_keeps_the_most_urgent(flags):
    assert flags.detect_any("quiero morirme") == LanguageMatch("es_die", "crisis", "es")
    assert flags.detect_any("최악의 두통") == LanguageMatch("ko_worst", "emergency", "ko")
    assert flags.detect_any("does acupuncture help") is None


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({}, "expected a mapping 'languages'"),
        ({"languages": {"es": {"rules": []}}}, "languages.es: no rules"),
        ({"languages": {"es": {"rules": [{"tier": "emergency", "all": [["x"]]}]}}}, "missing id"),
        ({"languages": {"es": {"rules": [{"id": "a", "tier": "soon", "all": [["x"]]}]}}}, "tier must be"),
        ({"languages": {"es": {"rules": [{"id": "a", "tier": "crisis", "all": []}]}}}, "'all' must be"),
        ({"languages": {"es": {"rules": [{"id": "a", "tier": "crisis", "all": [["(x"]]}]}}}, "'(x'"),
        (
            {
                "languages": {
                    "es": {"rules": [{"id": "a", "tier": "crisis", "all": [["x"]]}]},
                    "pt": {"rules": [{"id": "a", "tier": "crisis", "all": [["y"]]}]},
                }
            },
            "duplicate id a",
        ),
    ],
)
def test_a_malformed_file_names_each_problem(spec, problem):
    with pytest.raises(OtherLanguageSpecError) as error:
        OtherLanguageRedFlags.from_dict(spec)
    assert any(problem in item for item in error.value.problems)


def test_pattern_escapes_keep_their_case():
    # "not a space" (backslash S): folding the pattern's case would make it "a space".
    rule = {"id": "es_word", "tier": "emergency", "all": [[r"dolor\S*fuerte"]]}
    flags = OtherLanguageRedFlags.from_dict({"languages": {"es": {"rules": [rule]}}})
    assert flags.detect("DOLOR-FUERTE", "es") is not None
    assert flags.detect("dolor fuerte", "es") is None
