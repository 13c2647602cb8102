"""Normalising what people type to USPS codes and treatment keys."""

from __future__ import annotations

import pytest

from lexicon import load_states, load_treatments, normalize_state, normalize_term


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Ohio", "OH"),
        ("I live in Ohio", "OH"),
        ("TX", "TX"),
        ("tx", "TX"),
        ("in OR", "OR"),
        ("Calif.", "CA"),
        ("Mass", "MA"),
        ("penn", "PA"),
        ("Washington state", "WA"),
        ("washington", "WA"),
        ("Washington, DC", "DC"),
        ("Washington D.C.", "DC"),
        ("DC", "DC"),
        ("pensylvania", "PA"),
        ("new yrok", "NY"),
        ("Texas please", "TX"),
    ],
)
def test_state_normalisation(text, code):
    assert normalize_state(text) == code


@pytest.mark.parametrize("text", ["ok", "or", "me", "hi", "in", "", None, "nowhere land"])
def test_common_words_are_not_states(text):
    assert normalize_state(text) is None


def test_every_state_name_and_code_round_trips():
    states = load_states()
    assert len(states) == 51
    for state in states:
        assert normalize_state(state.name) == state.code
        assert normalize_state(state.code) == state.code
        for abbreviation in (*state.abbreviations, *state.other_names):
            assert normalize_state(abbreviation) == state.code, abbreviation


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("DN", "dry_needling"),
        ("dry neddling", "dry_needling"),
        ("tuina", "tui_na"),
        ("Tui-Na", "tui_na"),
        ("acupunture", "acupuncture"),
        ("moxa", "moxibustion"),
        ("aspirin", None),
    ],
)
def test_treatment_normalisation(text, key):
    assert normalize_term(text, load_treatments()) == key


def test_one_edit_variants_is_the_one_typo_generator():
    from lexicon import one_edit_variants

    variants = one_edit_variants("hawaii")
    assert {"hawii", "hawaiii", "hwaaii", "hawaxi"} <= variants and "hawaii" not in variants
    spaced = one_edit_variants("new york", keep_spaces=True)
    assert "new yrok" in spaced and "new yorkk" in spaced
    assert not {"newyork", "new  york", "ne wyork", "newxyork"} & spaced
    assert "newxyork" in one_edit_variants("new york", "abcdefghijklmnopqrstuvwxyz ")
