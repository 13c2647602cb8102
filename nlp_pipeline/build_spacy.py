"""Build the project's English spaCy pipeline and save it where SpacyNLP loads it.

No pretrained model is downloaded: the pipeline is blank English with a lookup
lemmatizer (tables from the spacy-lookups-data package, saved with the model)
and an entity ruler whose patterns come from ``data/lexicon``.

Usage: ``python -m nlp_pipeline.build_spacy [OUTPUT_DIR]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

from lexicon import (
    LEXICON_DIR,
    PROJECT_ROOT,
    Term,
    load_conditions,
    load_credentials,
    load_practitioners,
    load_states,
    load_treatments,
    one_edit_variants,
)

DEFAULT_OUTPUT = PROJECT_ROOT / "build" / "spacy_en_headache"
# Words that, in capitals, may precede an ambiguous state code ("in OR").
_CODE_CONTEXT = ["in", "from", "of", "for", "about", "to", "at"]
# Words of the states' own names: never taken for a misspelling of another state.
_STATE_WORDS: set[str] = set()

Pattern = dict[str, Any]


def _is_acronym(phrase: str) -> bool:
    """Short all-caps or mixed-case tokens (DN, PT, LAc) must match case-sensitively."""
    letters = phrase.replace(".", "").replace(" ", "")
    return (
        len(letters) <= 5
        and any(ch.isupper() for ch in letters[1:] + letters[:1])
        and (letters.isupper() or not letters.islower())
        and " " not in phrase.strip()
    )


def _phrase_patterns(nlp: Language, label: str, term: Term, english_words: set[str]) -> Iterable[Pattern]:
    for phrase in term.phrases:
        if _is_acronym(phrase):
            tokens = [t.text for t in nlp.make_doc(phrase)]
            yield {"label": label, "id": term.key, "pattern": [{"ORTH": t} for t in tokens]}
            lowered = phrase.lower()
            # "dn", "pt" typed in lower case are still meant, unless the lower-case form is a word.
            if lowered.replace(".", "") not in english_words and lowered != phrase:
                yield {
                    "label": label,
                    "id": term.key,
                    "pattern": [{"LOWER": t.lower()} for t in tokens],
                }
        else:
            yield {"label": label, "id": term.key, "pattern": phrase}


def _typo_variants(name: str, english_words: set[str]) -> set[str]:
    """Every one-edit misspelling of a name of 6 letters or more ("pensylvania", "minnesotta",
    "colorodo", "hawii"), unless it is an English word or another state's name."""
    lowered = name.lower()
    if len(lowered.replace(" ", "")) < 6:
        return set()
    variants = one_edit_variants(lowered, keep_spaces=True)
    return {
        v
        for v in variants
        if v not in english_words and v not in _STATE_WORDS and "  " not in v and v.strip() == v
    }


def _word_abbreviations(abbreviations: Iterable[str], english_words: set[str]) -> set[str]:
    """The one-word abbreviations without a full stop ("Mass", "Wash") whose lower-case form is
    an English word, lower-cased: the ruler does not take them alone in lower case."""
    return {a.lower() for a in abbreviations if " " not in a and "." not in a and a.lower() in english_words}


# Lower-case codes that are also parts of English tokens ("ca" of "can't", "wo" of "won't").
_TOKEN_CODES = {"ca", "wo", "ai", "id"}


def state_patterns(nlp: Language, english_words: set[str]) -> list[Pattern]:
    """Entity-ruler patterns for the 51 jurisdictions (label ``us_state``)."""
    patterns: list[Pattern] = []
    _STATE_WORDS.update(word for state in load_states() for word in state.name.lower().split())
    _STATE_WORDS.update(state.name.lower() for state in load_states())
    for state in load_states():
        names = {state.name, *state.abbreviations, *state.other_names}
        for name in sorted(names):
            term = Term(key=state.code, phrases=(name,))
            patterns.extend(_phrase_patterns(nlp, "us_state", term, english_words))
        for typo in sorted(_typo_variants(state.name, english_words)):
            patterns.append({"label": "us_state", "id": state.code, "pattern": typo})
        for word in sorted(_word_abbreviations(state.abbreviations, english_words)):
            # "in mass?", "from wash": a short name that is also a word names the state only
            # after "in"/"from" (never "body mass").
            patterns.append(
                {
                    "label": "us_state",
                    "id": state.code,
                    "pattern": [{"LOWER": {"IN": ["in", "from"]}}, {"LOWER": word}],
                }
            )
        if state.ambiguous_code:
            patterns.append(
                {
                    "label": "us_state",
                    "id": state.code,
                    "pattern": [{"LOWER": {"IN": _CODE_CONTEXT}}, {"ORTH": state.code}],
                }
            )
        else:
            patterns.append({"label": "us_state", "id": state.code, "pattern": [{"ORTH": state.code}]})
            lower = state.code.lower()
            if lower not in english_words and lower not in _TOKEN_CODES:
                # "in tx", "nj pt dry needling allowed?", "Ks dry needling": a code in any case,
                # after "in"/"from"... or opening the message.
                patterns.append(
                    {
                        "label": "us_state",
                        "id": state.code,
                        "pattern": [{"LOWER": {"IN": _CODE_CONTEXT}}, {"LOWER": lower}],
                    }
                )
                patterns.append(
                    {
                        "label": "us_state",
                        "id": state.code,
                        "pattern": [{"IS_SENT_START": True, "LOWER": lower}],
                    }
                )
    # "Washington" next to "DC"/"D.C." is the district, handled by the longer DC phrases;
    # the ruler prefers the longest match, so no extra rule is needed here.
    return patterns


def term_patterns(nlp: Language, label: str, terms: Iterable[Term], english_words: set[str]) -> list[Pattern]:
    """Entity-ruler patterns for treatments, credentials or practitioners."""
    return [p for term in terms for p in _phrase_patterns(nlp, label, term, english_words)]


def lexicon_fingerprint(directory: Path = LEXICON_DIR) -> str:
    """Hash of the lexicon files and this builder, stored in the model's meta."""
    digest = hashlib.sha256()
    for path in [*sorted(directory.glob("*.yml")), Path(__file__)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_pipeline() -> Language:
    """Blank English + lookup lemmatizer + entity ruler fed from data/lexicon."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    # initialize() loads the lemma tables and would clear ruler patterns: patterns come after.
    nlp.initialize()
    english_words = _english_words(nlp)
    patterns = state_patterns(nlp, english_words)
    patterns += term_patterns(nlp, "treatment", load_treatments(), english_words)
    patterns += term_patterns(nlp, "credential", load_credentials(), english_words)
    patterns += term_patterns(nlp, "practitioner", load_practitioners(), english_words)
    patterns += term_patterns(nlp, "condition", load_conditions(), english_words)
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    nlp.meta["name"] = "en_headache"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank English + lookup lemmatizer + entity ruler from data/lexicon"
    nlp.meta["lexicon_fingerprint"] = lexicon_fingerprint()
    return nlp


def _english_words(nlp: Language) -> set[str]:
    """Lower-case English words: the lemmas in the lookup lemmatizer's table.

    The table is keyed by string hashes, but its values are the lemma strings.
    """
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    return {str(value).lower() for value in table.values()}


def main(argv: list[str] | None = None) -> int:
    """Build and save the pipeline; print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args(argv)
    nlp = build_pipeline()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    ruler = nlp.get_pipe("entity_ruler")
    summary = {"output": str(output), "pipes": nlp.pipe_names, "patterns": len(ruler)}  # type: ignore[arg-type]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
