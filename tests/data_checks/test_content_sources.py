"""What the answers cite, checked across the FAQ, the evidence table and the state tables (issue 20).

- No answer cites a site's home page: a source address must point at the article or page that
  supports the answer. The few home pages kept because the research notes
  (../shared/facts) give no better address are listed below, so a new one fails the test.
- Every source has a real title, and every answer has a review date.
- A figure the research notes mark [U] (unverified) is never stated as certain.
- The "who may dry needle" answer counts states from the state table it sits next to.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

import pytest

from actions.rendering import format_date
from actions.settings import PROJECT_ROOT
from actions.store.content import read_faq_content
from actions.store.evidence_data import read_evidence_table
from actions.store.legal_data import read_legal_data
from actions.store.legal_repository import ALLOWED, NOT_ADDRESSED, PROHIBITED, UNCLEAR
from actions.store.records import FaqAnswer

DATA = PROJECT_ROOT / "data"
FAQ = read_faq_content(DATA / "content")
EVIDENCE = read_evidence_table(DATA / "evidence")
LEGAL = read_legal_data(DATA)

# Home pages kept because the research notes give no better address for the source (issue 20:
# "if the facts give no better URL, keep it and list it"). Replace an entry with the article or
# primary page as soon as the notes give one, and remove it here.
KEPT_HOME_PAGES = {
    # FAQ key -> addresses
    "dry_needling_sessions": {"https://americanmigrainefoundation.org/"},
    "lifestyle_migraine": {"https://americanmigrainefoundation.org/"},
    "physician_acupuncturists": {
        "http://dabma.org/"
    },  # credentials.md section 4: ABMA facts cite dabma.org only
    # legal source key -> address
    "mi_lara_rules": {"https://ars.apps.lara.state.mi.us"},  # Michigan rules 2024, the only address given
}


def is_home_page(url: str) -> bool:
    """A site's front page: nothing after the host but "/" (a query such as "?p=4787" names a page)."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query and not parts.fragment


@pytest.mark.parametrize(
    ("url", "home"),
    [
        ("https://thejournalofheadacheandpain.biomedcentral.com/", True),
        ("https://americanmigrainefoundation.org", True),
        ("https://acupunctureprep.com/?p=4787", False),
        ("https://doi.org/10.1186/s10194-023-01590-5", False),
        ("https://www.nice.org.uk/guidance/cg150", False),
    ],
)
def test_what_counts_as_a_home_page(url, home):
    assert is_home_page(url) is home


def cited() -> list[tuple[str, str, str]]:
    """(where, title, url) for every source cited by an answer; url is "" where none is known."""
    rows = [(answer.key, s.title, s.url) for answer in FAQ.answers for s in answer.sources]
    rows += [(f"evidence:{s.id}", s.title, s.url) for s in EVIDENCE.sources]
    rows += [(s.key, s.title, s.url or "") for s in LEGAL.sources]
    return rows


def test_no_answer_cites_a_site_home_page():
    found: dict[str, set[str]] = {}
    for where, _, url in cited():
        if url and is_home_page(url):
            found.setdefault(where, set()).add(url)
    assert found == KEPT_HOME_PAGES, "cite the article or primary page, not the site's home page"


def test_no_answer_cites_a_translated_copy_of_a_state_page():
    """doh.wa.gov/tr/... is the Turkish copy of an English page: cite the canonical page."""
    translated = [
        (where, url) for where, _, url in cited() if re.match(r"https?://doh\.wa\.gov/[a-z]{2}/", url)
    ]
    assert translated == []


def test_every_source_has_a_title():
    for where, title, url in cited():
        assert title.strip(), where
        # A title names the work, not its address.
        assert not title.lower().startswith(("http", "www.")), (where, title)
        assert not (url and url in title), (where, title)


def test_document_sharing_copies_say_so_in_their_title():
    mirrors = ("fdocuments.", "docslib.org", "scribd.com")
    for where, title, url in cited():
        if any(mirror in url for mirror in mirrors):
            assert title.endswith("(copy on a document-sharing site)"), (where, title)


def test_every_answer_has_a_review_date():
    today = date.today()
    for answer in FAQ.answers:
        assert isinstance(answer.reviewed_on, date) and answer.reviewed_on <= today, answer.key
    for row in EVIDENCE.rows:
        assert isinstance(row.reviewed_on, date) and row.reviewed_on <= today, (row.treatment, row.condition)
    for rule in LEGAL.dry_needling:
        assert isinstance(rule.verified_on, date) and rule.verified_on <= today, rule.state_code
    for licensure in LEGAL.acupuncture:
        assert (
            isinstance(licensure.verified_on, date) and licensure.verified_on <= today
        ), licensure.state_code


# Figures the research notes (evidence.md sections 1-3) mark [U]: recalled from an abstract, not
# readable in the copies consulted. A sentence may mention one only while saying it is unconfirmed.
UNVERIFIED = [
    (r"\b17 ?%|\b2\.40\b", "Cochrane migraine: responders vs no acupuncture (41% vs 17%, RR 2.40)"),
    (r"\b57 ?%|\b46 ?%", "Cochrane migraine: responders vs preventive drugs (57% vs 46%)"),
    (r"\b1\.23\b|0\.18\b|0\.25\b", "Cochrane migraine: RR/SMD vs sham and drugs"),
    (r"\b48 ?%|\b19 ?%|\b51 ?%|\b43 ?%", "Cochrane tension-type headache: responder rates"),
    (r"\b3\.2\b", "Zhao 2017: effect sizes"),
    (r"fewer side effects|fewer (?:drop-?outs|adverse)", "Cochrane migraine: fewer harms than drugs"),
]
HEDGE = re.compile(r"not (?:been )?confirmed|could not be confirmed|couldn't confirm|unverified|not verified")


def whole_text(answer: FaqAnswer) -> str:
    """The short answer and the detail: both are checked."""
    return f"{answer.short}\n{answer.text}"


def answer_texts() -> list[tuple[str, str]]:
    texts = [(answer.key, whole_text(answer)) for answer in FAQ.answers]
    texts += [
        (f"{row.treatment} x {row.condition}", part.text) for row in EVIDENCE.rows for part in row.parts
    ]
    return texts


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


@pytest.mark.parametrize(("pattern", "what"), UNVERIFIED, ids=[what for _, what in UNVERIFIED])
def test_unverified_figures_are_worded_as_unverified(pattern, what):
    for where, text in answer_texts():
        for sentence in sentences(text):
            if re.search(pattern, sentence, re.IGNORECASE):
                assert HEDGE.search(sentence), f"{where}: [U] {what} stated as certain: {sentence!r}"


def test_the_tension_type_headache_evidence_is_not_graded_anywhere():
    """The notes give no grade for the Cochrane TTH review; expectations.yml says not_rated."""
    row = next(
        r for r in EVIDENCE.rows if (r.treatment, r.condition) == ("acupuncture", "tension_type_headache")
    )
    assert row.grade == "not_rated"
    for key in ("acupuncture_evidence_tension", "dry_needling_vs_acupuncture"):
        text = next(whole_text(a) for a in FAQ.answers if a.key == key)
        for sentence in sentences(text):
            if "tension-type" in sentence:
                assert not re.search(r"moderate[- ]quality|of moderate quality", sentence), (key, sentence)


def test_who_may_dry_needle_counts_come_from_the_state_table():
    counts = Counter(rule.status for rule in LEGAL.dry_needling if rule.state_code != "DC")
    assert next(r.status for r in LEGAL.dry_needling if r.state_code == "DC") == ALLOWED
    text = next(whole_text(a) for a in FAQ.answers if a.key == "dry_needling_who_may_practise")
    assert (
        f"PTs may dry needle in {counts[ALLOWED]} states plus DC, may not in {counts[PROHIBITED]}, "
        f"the law says nothing either way in {counts[NOT_ADDRESSED]}, and in {counts[UNCLEAR]} it is unclear"
    ) in text
    assert f"last checked {format_date(LEGAL.oldest_verified_on())}" in text
    # APTA's own counts are quoted as of their date, never as today's.
    assert "in 2023 the American Physical Therapy Association counted 39 states plus DC" in text
    illinois = next(r for r in LEGAL.dry_needling if r.state_code == "IL")
    assert illinois.check_first and "Illinois, check with the board first" in text
