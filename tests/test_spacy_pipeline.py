"""The project's own spaCy pipeline: built offline, lemmas and entities from data/lexicon."""

from __future__ import annotations

import pytest
import spacy

from lexicon import load_states
from nlp_pipeline.build_spacy import build_pipeline


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def ents(nlp, text):
    return [(e.text, e.label_, e.ent_id_) for e in nlp(text).ents]


def test_pipeline_is_blank_english_with_lemmatizer_and_ruler(nlp):
    assert nlp.lang == "en"
    assert nlp.pipe_names == ["lemmatizer", "entity_ruler"]
    assert nlp.vocab.vectors.shape[0] == 0  # nothing pretrained


def test_ruler_patterns_survive_initialisation(nlp):
    # spaCy's initialize() clears entity-ruler patterns; the builder adds them after it.
    assert len(nlp.get_pipe("entity_ruler")) > 500


def test_lookup_lemmas_feed_the_featurizer(nlp):
    assert [t.lemma_ for t in nlp("needles hurting migraines")] == ["needle", "hurt", "migraine"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Is dry needling legal in Calif.?",
            [("dry needling", "treatment", "dry_needling"), ("Calif.", "us_state", "CA")],
        ),
        (
            "can a PT do DN in OR",
            [
                ("PT", "practitioner", "physical_therapist"),
                ("DN", "treatment", "dry_needling"),
                ("in OR", "us_state", "OR"),
            ],
        ),
        (
            "is my L.Ac. licensed in Washington, DC",
            [("L.Ac.", "credential", "lac"), ("Washington, DC", "us_state", "DC")],
        ),
        ("washington state", [("washington state", "us_state", "WA")]),
        ("tuina for headaches", [("tuina", "treatment", "tui_na")]),
        ("what about pensylvania", [("pensylvania", "us_state", "PA")]),
        (
            "Dipl. Ac. vs Dipl. O.M.",
            [("Dipl. Ac.", "credential", "dipl_ac"), ("Dipl. O.M.", "credential", "dipl_om")],
        ),
        ("ok or maybe me", []),  # common words are not states
        # A short name that is also a word names its state after "in"/"from", never alone.
        ("and in mass?", [("in mass", "us_state", "MA")]),
        ("does body mass matter for needling", []),
        (
            "moxa sticks and electric needles",
            [
                ("moxa sticks", "treatment", "moxibustion"),
                ("electric needles", "treatment", "electroacupuncture"),
            ],
        ),
        ("do i need to", []),  # "do" is not a doctor (only "DO" in capitals)
    ],
)
def test_entities(nlp, text, expected):
    assert ents(nlp, text) == expected


def test_every_state_name_is_recognised(nlp):
    for state in load_states():
        assert ents(nlp, f"is it legal in {state.name}") == [(state.name, "us_state", state.code)] or (
            state.code == "WA" and ents(nlp, "is it legal in Washington")[0][2] == "WA"
        ), state.name


def test_saved_pipeline_loads_without_the_lookups_package(tmp_path, nlp):
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert [t.lemma_ for t in loaded("headaches")] == ["headache"]
    assert ents(loaded, "tuina") == [("tuina", "treatment", "tui_na")]
