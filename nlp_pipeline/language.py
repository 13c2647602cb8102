"""Is a message written in a language other than English, and which? (issue 18)

The bot answers in English only. A message in another language gets, in that language, a
short reply saying so, with the clinic's contact and the emergency number, never English
"Did you mean" buttons. Detection is deterministic and offline:

- a writing system other than Latin decides at once (Han without kana -> zh, kana -> ja,
  Hangul -> ko, Cyrillic -> ru, Arabic -> ar, Hebrew -> he, Devanagari -> hi, Thai -> th,
  Greek -> el) when it makes up a third of the letters;
- Latin-script languages (es, pt, fr, de, it, vi, tl, pl, nl, sv, cs, tr) are told from
  English by their function words and letters (Vietnamese tone marks, Spanish ¿ ¡ ñ, ...): a
  message is non-English when at least two of its distinct words (or one marker letter and
  one word) belong to one language and outnumber the English function words. Place names
  such as "Los Angeles" or "San Diego" are one word short of that.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Function words and common question words, none of them English words.
_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        "el la los las del que qué por para con una uno pero como cómo cuando cuándo donde dónde porque "
        "puedo puede tengo tiene muy más mi mis tu su sus esto esta este eso lo le les nos usted ustedes "
        "cuánto cuanto cuántas cuantas dolor cabeza migraña migrana agujas acupuntura sesión sesion "
        "sesiones embarazada seguro también tambien hacer".split()
    ),
    "pt": frozenset(
        "não nao sim por para que é você voce meu minha uma um os das dos na pelo pela ele ela isso isto "
        "está estou tenho tem quanto quantas dor cabeça enxaqueca agulhas acupuntura sessões sessoes".split()
    ),
    "fr": frozenset(
        "le les des est une un que qui pour avec pas je vous nous mon mes ce cette ça dans sur quoi "
        "combien douleur tête tete aiguilles séances seances acupuncteur".split()
    ),
    "de": frozenset(
        "der das und ist nicht ich sie wir mit für auf ein eine wie viel viele kopfschmerzen hilft "
        "sitzungen nadeln akupunktur gegen".split()
    ),
    "it": frozenset(
        "il lo gli della che sono una testa aiuta quanto costa sedute aghi agopuntura emicrania".split()
    ),
    # Also as typed without tone marks ("toi bi dau dau"), which many Vietnamese writers do.
    "vi": frozenset(
        "có không của và là cho tôi bị được những các một này với để người đau đầu châm cứu "
        "toi khong bi duoc nguoi nhung cua dau cham cuu rat nhieu lam qua chong vo".split()
    ),
    "tl": frozenset(
        "ang ng sa mga ko po ako ito ba ay hindi oo ikaw siya kami tayo sakit ulo paano magkano".split()
    ),
    "pl": frozenset(
        "czy jest nie się sie jak ile mnie mam dla ból bol głowy glowy migrenę migrene migrena igły igly "
        "pomaga kosztuje akupunktura bardzo czego gdzie kiedy jestem moja mój moj".split()
    ),
    "nl": frozenset(
        "het een niet ik bij helpt hoofdpijn naalden acupunctuur wat hoe veel kost mijn zijn voor ook "
        "maar deze dat tegen werkt".split()
    ),
    "sv": frozenset(
        "och är att det jag inte hjälper mot huvudvärk migrän hur mycket kostar nålar mitt för vad "
        "hjälpa".split()
    ),
    "cs": frozenset(
        "pomáhá pomaha je jak kolik stojí stoji bolest hlavy migrénu migrenu migréna jehly mě mne "
        "proti akupunktura".split()
    ),
    # Hindi written in Latin letters ("mujhe bahut sir dard hai").
    "hi": frozenset(
        "mujhe mera meri mere hai hain nahi nahin bahut dard kya raha rahi gaya gayi kuch".split()
    ),
    "tr": frozenset(
        "için icin mı kadar ağrısı agrisi baş bas migren akupunktur iyi bir ve bu benim yardımcı "
        "yardimci olur yok nedir ne".split()
    ),
}
# Vietnamese writes tone marks that no other language here uses (Latin Extended Additional).
_VIETNAMESE_LETTERS = re.compile("[\u1ea0-\u1ef9\u01a1\u01b0\u0111]")
# Letters that English does not use, with the language they point to.
_MARKERS = {"¿": "es", "¡": "es", "ñ": "es", "ã": "pt", "õ": "pt", "ç": "fr", "ß": "de"}
_ENGLISH = frozenset(
    "the a an is are was be to of and or in on for with my me i you it do does can what how is "
    "this that my your have has will would should there my help acupuncture dry needling headache "
    "headaches migraine migraines".split()
)
_SCRIPTS = (
    ("HANGUL", "ko"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("DEVANAGARI", "hi"),
    ("THAI", "th"),
    ("GREEK", "el"),
)


def _script_language(text: str) -> str | None:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    counts: dict[str, int] = {}
    for ch in letters:
        name = unicodedata.name(ch, "")
        for prefix, language in _SCRIPTS:
            if name.startswith(prefix):
                counts[language] = counts.get(language, 0) + 1
                break
    if not counts:
        return None
    # Kana anywhere means Japanese, whatever share of the text is Han.
    if counts.get("ja"):
        counts["ja"] += counts.pop("zh", 0)
    language, count = max(counts.items(), key=lambda item: item[1])
    return language if count >= len(letters) / 3 else None


def _word_scores(lowered: str) -> tuple[dict[str, int], int]:
    """Per language, its distinct words (and marker letters) in ``lowered``; and how many
    distinct English function words it has. Distinct words: "la la la" is a song, not Spanish."""
    words = set(_WORD.findall(lowered))
    scores = {language: len(words & vocabulary) for language, vocabulary in _WORDS.items()}
    for marker, language in _MARKERS.items():
        if marker in lowered:
            scores[language] += 1
    return scores, len(words & _ENGLISH)


def languages_to_read(text: str) -> frozenset[str] | None:
    """For a message whose language was not told: None when it has no English function word
    (it may be in any language), else the languages it has a word or marker letter of (an
    English message is not read as Spanish for one shared word)."""
    lowered = text.lower()
    scores, english = _word_scores(lowered)
    if not english:
        return None
    script = _script_language(text)
    if script:
        return frozenset({script})
    found = {language for language, score in scores.items() if score}
    if _VIETNAMESE_LETTERS.search(lowered):
        found.add("vi")
    return frozenset(found)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language when it is clearly not English, else None."""
    if not text or text.startswith("/"):
        return None
    script = _script_language(text)
    if script:
        return script
    lowered = text.lower()
    if len(_VIETNAMESE_LETTERS.findall(lowered)) >= 2:
        return "vi"
    scores, english = _word_scores(lowered)
    language, score = max(scores.items(), key=lambda item: item[1])
    if score >= 2 and score > english:
        return language
    return None
