"""Every question type, asked about a treatment by name and as a follow-up that leaves the
treatment to the conversation ("is it safe?" after dry needling), through the running
servers (REST): the answer key is read from the reply's payload (issue 18).

Where the treatment has no answer of that type, the bot says so and gives the nearest one;
the conversation stays on that treatment.
"""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

NEAREST = "I don't have a reviewed answer on that for"
# What puts a treatment in context: its "what is" question.
CONTEXT = {
    "acupuncture": ("what is acupuncture?", "acupuncture_what_is"),
    "dry_needling": ("what is dry needling?", "dry_needling_what_is"),
    "tui_na": ("what is tui na?", "tui_na_what_is"),
}
# Question type -> (the follow-up, {treatment in context: expected answer key}); a key
# prefixed with "~" is a nearest answer (no answer of that type for that treatment).
FOLLOW_UPS = {
    "side_effects": (
        "is it safe?",
        {
            "acupuncture": "acupuncture_side_effects",
            "dry_needling": "dry_needling_side_effects",
            "tui_na": "tui_na_side_effects",
        },
    ),
    "sessions": (
        "how many sessions would i need?",
        {
            "acupuncture": "acupuncture_sessions",
            "dry_needling": "dry_needling_sessions",
            "tui_na": "~acupuncture_sessions",
        },
    ),
    "pain": (
        "does it hurt?",
        {"acupuncture": "acupuncture_pain", "dry_needling": "~acupuncture_pain"},
    ),
    "evidence": (
        "does it actually work for migraines?",
        {
            "acupuncture": "acupuncture_evidence_migraine",
            "dry_needling": "dry_needling_evidence",
            "tui_na": "tui_na_evidence",
        },
    ),
    "training": (
        "how much training do they need?",
        {"acupuncture": "acupuncturist_training", "dry_needling": "dry_needling_training"},
    ),
    "legal": (
        "who is allowed to do it?",
        {"acupuncture": "acupuncture_who_may_practise", "dry_needling": "dry_needling_who_may_practise"},
    ),
    "insurance": (
        "will my insurance cover it?",
        {
            "acupuncture": "insurance_coverage",
            "dry_needling": "insurance_coverage",
            "tui_na": "insurance_coverage",
        },
    ),
    "cost": ("how much does it cost?", {"acupuncture": "cost", "tui_na": "cost"}),
    "first_visit": (
        "what happens at the first appointment?",
        {"acupuncture": "acupuncture_first_visit", "dry_needling": "~acupuncture_first_visit"},
    ),
    "results_duration": (
        "how long do the results last?",
        {"acupuncture": "acupuncture_results_duration", "dry_needling": "~acupuncture_results_duration"},
    ),
    "progress": (
        "how will i know if it's working?",
        {
            "acupuncture": "acupuncture_progress",
            "dry_needling": "acupuncture_progress",
            "tui_na": "acupuncture_progress",
        },
    ),
    "children": (
        "can kids have it?",
        {"acupuncture": "acupuncture_children", "dry_needling": "~acupuncture_children"},
    ),
    "pregnancy": ("can i have it while pregnant?", {"acupuncture": "acupuncture_pregnancy"}),
    "aftercare": (
        "what should i do after the session?",
        {
            "acupuncture": "acupuncture_aftercare",
            "dry_needling": "acupuncture_aftercare",
            "tui_na": "acupuncture_aftercare",
        },
    ),
    "contraindications": (
        "is there anyone who shouldn't have it?",
        {
            "acupuncture": "acupuncture_who_should_check_first",
            "dry_needling": "acupuncture_who_should_check_first",
        },
    ),
    "needles": (
        "how deep do the needles go?",
        {"acupuncture": "acupuncture_needles", "dry_needling": "acupuncture_needles"},
    ),
    "medication": ("is it ok with my migraine medicine?", {"acupuncture": "medication_interactions"}),
    "needle_safety": ("are the needles sterile?", {"acupuncture": "needle_safety"}),
    "limits": ("can it cure my migraines?", {"acupuncture": "acupuncture_limits"}),
    "how_it_works": ("how does it work?", {"acupuncture": "acupuncture_how_it_works"}),
    "comparison": ("how is it different from acupuncture?", {"dry_needling": "dry_needling_vs_acupuncture"}),
    "combination": ("could i have it together with acupuncture?", {"tui_na": "tui_na_with_acupuncture"}),
}
# Question type -> (the question naming its treatment, expected answer key), no context.
NAMED = {
    "overview": ("what is electroacupuncture?", "electroacupuncture_what_is"),
    "how_it_works": ("how does acupuncture work?", "acupuncture_how_it_works"),
    "evidence_migraine": ("does acupuncture help migraines?", "acupuncture_evidence_migraine"),
    "evidence_tension": ("does acupuncture help tension headaches?", "acupuncture_evidence_tension"),
    "evidence": ("is there evidence that dry needling helps headaches?", "dry_needling_evidence"),
    "sessions": ("how many dry needling sessions will i need?", "dry_needling_sessions"),
    "first_visit": ("what happens at my first acupuncture visit?", "acupuncture_first_visit"),
    "pain": ("does acupuncture hurt?", "acupuncture_pain"),
    "side_effects": ("what are the side effects of tui na?", "tui_na_side_effects"),
    "needle_safety": ("are acupuncture needles reused?", "needle_safety"),
    "results_duration": ("how long does acupuncture relief last?", "acupuncture_results_duration"),
    "limits": ("what can't acupuncture do for headaches?", "acupuncture_limits"),
    "medication": ("can i have acupuncture while on migraine medication?", "medication_interactions"),
    "children": ("is acupuncture ok for a 12 year old with migraines?", "acupuncture_children"),
    "pregnancy": ("is acupuncture safe during pregnancy?", "acupuncture_pregnancy"),
    "progress": ("how can i tell whether acupuncture is working for me?", "acupuncture_progress"),
    "aftercare": ("what should i do after an acupuncture session?", "acupuncture_aftercare"),
    "contraindications": ("who should not have acupuncture?", "acupuncture_who_should_check_first"),
    "vs_medicines": ("is acupuncture better than botox for migraines?", "acupuncture_vs_migraine_medicines"),
    "find_practitioner": ("how do i choose a good acupuncturist?", "finding_a_practitioner"),
    "needles": ("how thin are acupuncture needles?", "acupuncture_needles"),
    "community": ("how does a community acupuncture clinic work?", "community_acupuncture"),
    "cost": ("how much does a session cost?", "cost"),
    "insurance": ("does insurance cover dry needling?", "insurance_coverage"),
    "training": ("how much training do acupuncturists have?", "acupuncturist_training"),
    "legal": ("who is allowed to do dry needling?", "dry_needling_who_may_practise"),
    "comparison": (
        "what is the difference between dry needling and acupuncture?",
        "dry_needling_vs_acupuncture",
    ),
    "combination": ("can tui na be combined with acupuncture?", "tui_na_with_acupuncture"),
    "neuroimaging": ("are there brain scan studies of acupuncture?", "neuroimaging_research"),
    "lifestyle": ("what lifestyle changes help with migraines?", "lifestyle_migraine"),
    "questions_to_ask": ("what should i ask a practitioner before booking?", "questions_for_practitioner"),
    "warning_signs": ("what are the warning signs of a bad clinic?", "bad_clinic_warning_signs"),
    "credential_check": ("how do i check an acupuncturist's licence?", "how_to_check_a_licence"),
    "credential_red_flags": ("what are red flags in a practitioner's credentials?", "credential_red_flags"),
    "credential_titles": ("what does DOM mean after an acupuncturist's name?", "cac_and_other_titles"),
    "credential_lac": ("what does L.Ac. mean?", "lac_vs_nccaom"),
    "credential_nccaom": ("what is NCCAOM?", "nccaom_what_is"),
    "credential_acahm": ("what is ACAHM accreditation?", "acahm_accreditation"),
    "credential_physician": ("can medical doctors do acupuncture?", "physician_acupuncturists"),
    "credential_dry_needling": ("what does certified in dry needling mean?", "dry_needling_certification"),
}


def answer_keys(replies: list[dict]) -> list[str]:
    return [
        str(reply["custom"]["answer"]["key"])
        for reply in replies
        if isinstance(reply.get("custom"), dict) and "answer" in reply["custom"]
    ]


def texts(replies: list[dict]) -> str:
    return "\n".join(str(reply.get("text") or "") for reply in replies)


def new_user() -> str:
    return f"e2e-types-{uuid.uuid4().hex[:8]}"


def test_every_question_type_of_the_content_is_covered():
    from nlp_pipeline.faq_topics import question_types

    types = set(question_types().values())
    assert types == set(NAMED)
    assert set(FOLLOW_UPS) <= types


@pytest.mark.parametrize("question_type", sorted(NAMED))
def test_a_question_naming_its_treatment_gets_its_answer(bot, question_type):
    question, key = NAMED[question_type]
    assert answer_keys(bot.post(new_user(), question)) == [key]


@pytest.mark.parametrize(
    ("question_type", "treatment"),
    sorted((kind, treatment) for kind, (_, expected) in FOLLOW_UPS.items() for treatment in expected),
)
def test_a_follow_up_takes_the_treatment_from_the_conversation(bot, question_type, treatment):
    user = new_user()
    opening, opening_key = CONTEXT[treatment]
    assert answer_keys(bot.post(user, opening)) == [opening_key]

    follow_up, expected_by_treatment = FOLLOW_UPS[question_type]
    expected = expected_by_treatment[treatment]
    replies = bot.post(user, follow_up)

    assert answer_keys(replies) == [expected.lstrip("~")]
    assert (NEAREST in texts(replies)) is expected.startswith("~")
