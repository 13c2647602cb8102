"""Write data/lexicon/common_english.txt: English words common enough never to be "corrected".

The red-flag detector corrects unknown words one edit towards its own vocabulary
("hedache" -> headache). A real word it does not know must stay itself ("west" is not a
typo of "welt"). The lemma tables only list inflected forms, so this list, taken once from
the word frequencies shipped in spacy-lookups-data (log probability >= -13.5), says which
words are English. Re-run only when that package changes.

Usage: python scripts/build_common_words.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "data" / "lexicon" / "common_english.txt"
MIN_LOG_PROBABILITY = -13.5


def main() -> int:
    import gzip
    import json

    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_prob.json.gz"
    table: dict[str, float] = json.loads(gzip.decompress(path.read_bytes()))
    words = sorted(
        word
        for word, probability in table.items()
        if probability >= MIN_LOG_PROBABILITY and word.isalpha() and word.islower()
    )
    header = (
        "# English words the red-flag detector never autocorrects (scripts/build_common_words.py):\n"
        f"# spacy-lookups-data lexeme_prob >= {MIN_LOG_PROBABILITY}, lower-case letters only.\n"
    )
    OUTPUT.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(words)} words)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
