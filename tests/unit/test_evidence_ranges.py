"""The personal-range arithmetic and the frequency parser (actions/evidence_ranges.py)."""

from __future__ import annotations

import math

import pytest

from actions.evidence_ranges import (
    BadFrequency,
    Frequency,
    FrequencyProblem,
    NoEstimate,
    NoEstimateReason,
    PersonalRange,
    TrialAverages,
    parse_frequency,
    personal_range,
    round_half_up,
    whole_days,
)

# The sourced figures of the acupuncture x episodic migraine row (AFP 2017 worked example and
# responder rate; Cochrane 2016 population with 15 or fewer headache days a month).
AFP = TrialAverages(
    baseline_days=6, treated_days=3.5, comparison_days=5, responder_percent=41, max_baseline_days=15
)


@pytest.mark.parametrize(
    ("value", "expected"), [(0.5, 1), (1.5, 2), (2.5, 3), (2.49, 2), (4.666, 5), (6.666, 7), (0.0, 0)]
)
def test_round_half_up(value, expected):
    assert round_half_up(value) == expected


def test_eight_days_worked_through_by_hand():
    # 8 x 3.5/6 = 4.67 -> 5; 8 x 5/6 = 6.67 -> 7; at least halved: 8 // 2 = 4; 41 / 10 = 4.1 -> 4 in 10.
    assert personal_range(8, AFP) == PersonalRange(
        days=8, average_treated=5, average_comparison=7, halved_days=4, responders_in_10=4
    )


def test_the_published_example_itself_comes_back():
    # 6 days: 3.5 rounds half up to 4 (whole days), usual care 5, halved 3.
    assert personal_range(6, AFP) == PersonalRange(6, 4, 5, 3, 4)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (2, PersonalRange(2, 1, 2, 1, 4)),  # 1.17 -> 1, 1.67 -> 2
        (3, PersonalRange(3, 2, 3, 1, 4)),  # 1.75 -> 2, 2.5 -> 3 (half up)
        (15, PersonalRange(15, 9, 13, 7, 4)),  # 8.75 -> 9, 12.5 -> 13, 15 // 2 = 7
        ("8", PersonalRange(8, 5, 7, 4, 4)),  # slot values may arrive as text
        (8.0, PersonalRange(8, 5, 7, 4, 4)),  # or as a float slot
    ],
)
def test_ranges_at_the_edges_of_the_trial_population(days, expected):
    assert personal_range(days, AFP) == expected


@pytest.mark.parametrize("days", range(2, 16))
def test_every_supported_frequency_follows_the_documented_formula(days):
    result = personal_range(days, AFP)
    assert isinstance(result, PersonalRange)
    assert result.average_treated == math.floor(days * 3.5 / 6 + 0.5)
    assert result.average_comparison == math.floor(days * 5 / 6 + 0.5)
    assert result.halved_days == days // 2
    assert result.average_treated < result.average_comparison <= days


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        (0, NoEstimateReason.ZERO_DAYS),  # nothing to reduce
        (1, NoEstimateReason.TOO_FEW_DAYS),  # 0.58 and 0.83 both round to 1: no visible difference
        (16, NoEstimateReason.ABOVE_TRIAL_RANGE),  # trials had 15 or fewer headache days
        (30, NoEstimateReason.ABOVE_TRIAL_RANGE),  # daily headache (chronic range)
        ("eight", NoEstimateReason.NOT_A_NUMBER),
        ("lots", NoEstimateReason.NOT_A_NUMBER),
        (None, NoEstimateReason.NOT_A_NUMBER),
        (True, NoEstimateReason.NOT_A_NUMBER),
        (-3, NoEstimateReason.NOT_A_NUMBER),
        (7.5, NoEstimateReason.NOT_A_NUMBER),  # not a whole number of days
        (float("nan"), NoEstimateReason.NOT_A_NUMBER),
        (float("inf"), NoEstimateReason.NOT_A_NUMBER),
    ],
)
def test_no_estimate_and_why(days, reason):
    assert personal_range(days, AFP) == NoEstimate(reason)


@pytest.mark.parametrize("days", [8, 15, 20, "x"])
def test_rows_without_figures_never_estimate(days):
    # e.g. chronic migraine (15 or more days): no row figures, so no personal estimate at all.
    assert personal_range(days, None) == NoEstimate(NoEstimateReason.NO_FIGURES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(8, 8), (8.0, 8), ("8", 8), (" 12 ", 12), ("8.0", 8), (0, 0), ("", None), ("ten", None), ([8], None)],
)
def test_whole_days(value, expected):
    assert whole_days(value) == expected


@pytest.mark.parametrize(
    ("text", "days", "per_week"),
    [
        ("I get 8 migraine days a month", 8, False),
        ("about 10 headache days per month", 10, False),
        ("around 4 migraines a month", 4, False),
        ("eight migraine days a month", 8, False),
        ("twenty-one days a month", 21, False),
        ("8 days/month", 8, False),
        ("between 8 and 10 days a month", 9, False),  # midpoint
        ("usually 5 or 6 migraine days a month", 6, False),  # 5.5 rounds half up
        ("4-6 a month", 5, False),
        ("maybe twice a month", 2, False),
        ("2 migraines a week", 9, True),  # 2 x 52/12 = 8.67
        ("i have migraines 3 times a week", 13, True),  # 13.0
        ("once a week", 4, True),  # 4.33
        ("I'm 45 and get 20 days a month", 20, False),  # the age is not a frequency
        ("i have a migraine nearly every day", 30, False),
        ("about 9", 9, False),  # a bare number answers "how many days a month?"
        ("0 days a month", 0, False),
    ],
)
def test_parse_frequency(text, days, per_week):
    result = parse_frequency(text)
    assert isinstance(result, Frequency), result
    assert (result.days_per_month, result.per_week) == (days, per_week)


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "lots",
        "most days",
        "a few a month",
        "every other day",
        "I've had migraines for 3 months",
        "is 3 sessions a week too many",
        "what can I expect from acupuncture",
    ],
)
def test_messages_without_a_frequency(text):
    assert parse_frequency(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("40 days a month", FrequencyProblem.TOO_MANY_PER_MONTH),
        ("9 migraines a week", FrequencyProblem.TOO_MANY_PER_WEEK),
        ("1.5 days a month", FrequencyProblem.NOT_WHOLE_DAYS),
    ],
)
def test_impossible_frequencies_are_flagged_not_guessed(text, problem):
    result = parse_frequency(text)
    assert isinstance(result, BadFrequency)
    assert result.problem is problem
