"""Messages in other languages (issue 18): detection, the NLU component and the reply."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message
from ruamel.yaml import YAML

from actions.languages import REPLIES_FILE, ActionReplyOtherLanguage, contact_clause, load_language_replies
from actions.settings import PROJECT_ROOT, ClinicContact, Settings
from nlp_pipeline.components import LanguageDetector
from nlp_pipeline.language import detect_language
from tests.conftest import make_tracker, run_action, text_message


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hola, ¿cuánto cuesta una sesión de acupuntura?", "es"),
        ("tengo migraña casi siempre, me puede ayudar la acupuntura", "es"),
        ("quanto custa uma sessão? tenho dor de cabeça todos os dias", "pt"),
        ("je voudrais savoir si l'acupuncture est efficace pour les maux de tête", "fr"),
        ("hilft akupunktur gegen kopfschmerzen?", "de"),
        ("l'agopuntura aiuta con il mal di testa?", "it"),
        ("châm cứu có đau không", "vi"),
        ("magkano po ang isang session ng acupuncture", "tl"),
        ("针灸治疗头痛要多少钱？", "zh"),
        ("鍼は痛いですか？", "ja"),
        ("침 맞으면 아파요?", "ko"),
        ("сколько стоит иглоукалывание?", "ru"),
        ("كم سعر جلسة الوخز بالإبر؟", "ar"),
        ("ile kosztuje akupunktura na ból głowy?", "pl"),
        ("werkt acupunctuur tegen hoofdpijn", "nl"),
        ("hur mycket kostar akupunktur", "sv"),
        ("kolik stojí akupunktura proti bolesti hlavy", "cs"),
        ("baş ağrısı için akupunktur ne kadar", "tr"),
    ],
)
def test_other_languages_are_recognised(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "is dry needling legal in los angeles?",
        "my abuela in san antonio swears by tui na, does it work?",
        "gracias!",
        "what is qi and does yin yang matter for acupuncture",
        "la la la",
        '/choose_topic{"topic_key": "cost"}',
        "",
    ],
)
def test_english_with_foreign_words_stays_english(text):
    assert detect_language(text) is None


def classified(text: str) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": "faq", "confidence": 0.4}, add_to_output=True)
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.4}], add_to_output=True)
    return message


def test_the_component_sets_the_intent_and_the_language():
    spanish, english = (
        classified("¿la acupuntura ayuda con la migraña?"),
        classified("does acupuncture help?"),
    )

    LanguageDetector({}).process([spanish, english])

    assert spanish.get("intent") == {"name": "other_language", "confidence": 1.0}
    assert spanish.get("language") == "es"
    assert english.get("intent") == {"name": "faq", "confidence": 0.4}
    assert english.get("language") is None


CLINIC = ClinicContact("Example Clinic", "555-0100", "hello@clinic.example", "", "")
SETTINGS = Settings(
    database_url="sqlite://",
    data_dir=PROJECT_ROOT / "data",
    answer_min_confidence=0.5,
    answer_min_margin=0.15,
    answer_reject_below=0.3,
    staff_inspector=False,
    clinic=CLINIC,
)


def test_the_reply_is_in_the_visitors_language_then_in_english():
    tracker = make_tracker(
        {"text": "hola", "intent": {"name": "other_language"}, "entities": [], "language": "es"}
    )

    messages, events = run_action(ActionReplyOtherLanguage(settings=SETTINGS), tracker)

    replies = load_language_replies()
    contact = " (Example Clinic: 555-0100, hello@clinic.example)"
    assert messages == [
        text_message(replies.replies["es"].format(contact=contact)),
        text_message(replies.english.format(contact=contact)),
    ]
    assert messages[0]["text"].startswith("Lo siento, por ahora solo puedo responder en inglés.")
    assert events == []


def test_a_language_without_a_translation_gets_the_english_reply():
    tracker = make_tracker(
        {"text": "...", "intent": {"name": "other_language"}, "entities": [], "language": "th"}
    )
    messages, _ = run_action(ActionReplyOtherLanguage(settings=SETTINGS), tracker)
    assert [m["text"] for m in messages] == [
        load_language_replies().english.format(contact=contact_clause(CLINIC))
    ]


def test_every_reply_names_the_emergency_number_and_the_clinic():
    data = YAML(typ="safe", pure=True).load(Path(REPLIES_FILE).read_text(encoding="utf-8"))
    for language, text in {"en": data["english"], **data["replies"]}.items():
        assert "911" in text and "{contact}" in text, language
    assert contact_clause(ClinicContact("", "", "", "", "")) == ""
    assert contact_clause(ClinicContact("Clinic", "", "", "", "")) == " (Clinic)"


def test_an_untold_message_is_read_in_the_languages_it_has_a_word_of_or_all_without_english():
    from nlp_pipeline.language import languages_to_read

    # English words too: only the languages it has a word (or a writing system) of.
    assert languages_to_read("me duele la cabeza") >= {"es"}
    assert languages_to_read("my dad 最严重的头痛") == frozenset({"zh"})
    assert languages_to_read("is it quick") == frozenset()
    # No English function word: it may be in any language.
    assert languages_to_read("duele la cabeza") is None
    assert languages_to_read("quick question") is None
