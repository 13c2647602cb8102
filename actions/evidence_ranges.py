"""Turning trial averages into a rough personal range, and reading "8 days a month".

Pure functions only (no I/O), so the arithmetic can be unit-tested line by line.

The arithmetic (a rough guide from trial averages, never a prediction)
-----------------------------------------------------------------------
An evidence row that supports an estimate carries these sourced figures:

* ``baseline_days``: the starting point of the published worked example (6 migraine days a month);
* ``treated_days``: where the average person ended up with the treatment (3.5);
* ``comparison_days``: where the average person ended up with the comparison, e.g. usual care (5);
* ``responder_percent``: the share of treated people who at least halved their days (41);
* ``max_baseline_days``: the most headache days a month people in the trials had (15).

For someone with ``D`` days a month (whole days, 1 <= D <= max_baseline_days):

* average with the treatment   = round(D x treated_days / baseline_days)
* average with the comparison  = round(D x comparison_days / baseline_days)
* "at least halved" for them    = floor(D / 2) days or fewer (days are whole, so <= D/2 means <= floor(D/2))
* how many in 10 at least halve = round(responder_percent / 10)

``round`` is round-half-up, so 2.5 becomes 3. The relative change is assumed to be the same at
every starting frequency; that assumption is why the result is only a rough guide, and it is said so.

No estimate is given when the input is not a number, when it is 0 (nothing to reduce), when it
is above the range the trials included, or when the two rounded averages come out the same
(too few days for the averages to show any difference).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

# A month has at most 31 days; a week 7.
MAX_DAYS_PER_MONTH = 31
MAX_DAYS_PER_WEEK = 7
# Weeks in an average month (52 weeks / 12 months), to turn "2 a week" into days a month.
WEEKS_PER_MONTH = 52 / 12


def round_half_up(value: float) -> int:
    """Round to the nearest whole number, halves upwards (2.5 -> 3, not Python's 2)."""
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TrialAverages:
    """The sourced figures a personal range is computed from."""

    baseline_days: float
    treated_days: float
    comparison_days: float
    responder_percent: float
    max_baseline_days: float
    comparison: str = "usual care"


@dataclass(frozen=True)
class PersonalRange:
    """A rough personal guide: every number here is explained in the module docstring."""

    days: int
    average_treated: int
    average_comparison: int
    halved_days: int
    responders_in_10: int


class NoEstimateReason(Enum):
    """Why no personal range is given."""

    NOT_A_NUMBER = "not_a_number"
    ZERO_DAYS = "zero_days"
    ABOVE_TRIAL_RANGE = "above_trial_range"
    TOO_FEW_DAYS = "too_few_days"
    NO_FIGURES = "no_figures"


@dataclass(frozen=True)
class NoEstimate:
    """No personal range, and why."""

    reason: NoEstimateReason


def whole_days(value: object) -> int | None:
    """A slot value as whole days, or None when it is not a usable number.

    Accepts ints, floats and numeric strings ("8", "8.0"); rejects booleans, NaN,
    infinities, negatives and fractions of a day ("7.5" is not a whole number of days).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    if float(value) != int(value):
        return None
    return int(value)


def personal_range(days: object, averages: TrialAverages | None) -> PersonalRange | NoEstimate:
    """The rough range for someone with ``days`` headache days a month (see the module docstring)."""
    if averages is None:
        return NoEstimate(NoEstimateReason.NO_FIGURES)
    count = whole_days(days)
    if count is None:
        return NoEstimate(NoEstimateReason.NOT_A_NUMBER)
    if count == 0:
        return NoEstimate(NoEstimateReason.ZERO_DAYS)
    if count > averages.max_baseline_days:
        return NoEstimate(NoEstimateReason.ABOVE_TRIAL_RANGE)
    treated = round_half_up(count * averages.treated_days / averages.baseline_days)
    comparison = round_half_up(count * averages.comparison_days / averages.baseline_days)
    if treated >= comparison:
        return NoEstimate(NoEstimateReason.TOO_FEW_DAYS)
    return PersonalRange(
        days=count,
        average_treated=treated,
        average_comparison=comparison,
        halved_days=count // 2,
        responders_in_10=round_half_up(averages.responder_percent / 10),
    )


# ----------------------------------------------------------------------------- parsing

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "once": 1,
    "two": 2,
    "twice": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}

_WORD = (
    r"(?:twenty[- ](?:one|two|three|four|five|six|seven|eight|nine)|thirty[- ]one|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + ")"
)
_NUM = rf"(?:\d{{1,3}}(?:\.\d+)?|{_WORD})"
# "8", "8-10", "8 to 10", "8 or 9", "between 8 and 10"
_AMOUNT = rf"(?:between\s+)?(?P<low>{_NUM})(?:\s*(?:-|–|to|or|and)\s*(?P<high>{_NUM}))?"
_WHAT = (
    r"(?:(?:bad|migraine|migrane|migraines|headache|hedache|headaches|tension|painful)\s+)*"
    r"(?:days?|migraines?|migranes?|headaches?|hedaches?|attacks?|episodes?|times?)"
)
_PER = r"(?:a|per|each|every|/|in\s+a|in\s+an\s+average|in\s+a\s+typical)"
_PERIOD = r"(?P<period>month|mo|week|wk)s?\b"

_FREQUENCY = re.compile(rf"\b{_AMOUNT}\s*(?:{_WHAT}\s*)?{_PER}\s*{_PERIOD}", re.IGNORECASE)
# A reply that is only a number ("10", "about 8 days") answers "how many days a month?".
_BARE = re.compile(
    rf"^\s*(?:(?:about|around|roughly|maybe|probably|usually|approximately|approx|like|i get|i have)\s+)*"
    rf"{_AMOUNT}\s*(?:{_WHAT})?\s*[.!]?\s*$",
    re.IGNORECASE,
)
_DAILY = re.compile(r"\b(?:every\s+(?:single\s+)?day|daily)\b", re.IGNORECASE)


class FrequencyProblem(Enum):
    """Why a stated frequency cannot be used."""

    TOO_MANY_PER_MONTH = "too_many_per_month"
    TOO_MANY_PER_WEEK = "too_many_per_week"
    NOT_WHOLE_DAYS = "not_whole_days"


@dataclass(frozen=True)
class Frequency:
    """Headache days a month read from a message."""

    days_per_month: int
    # The words the number came from, e.g. "2 a week": shown back so a conversion is visible.
    stated: str
    per_week: bool


@dataclass(frozen=True)
class BadFrequency:
    """The message states a frequency that cannot be right."""

    problem: FrequencyProblem
    stated: str


def _to_number(token: str) -> float:
    token = token.lower().replace("–", "-")
    if re.fullmatch(r"\d{1,3}(?:\.\d+)?", token):
        return float(token)
    parts = re.split(r"[- ]", token)
    if len(parts) == 2 and parts[0] in ("twenty", "thirty") and parts[1] in _UNITS:
        return float(_NUMBER_WORDS[parts[0]] + _UNITS[parts[1]])
    return float(_NUMBER_WORDS[token])


def parse_frequency(text: str | None) -> Frequency | BadFrequency | None:
    """Read "8 migraine days a month", "2 a week", "4-6 a month", "twice a week", "daily", "10".

    Returns None when the message states no frequency (including "lots", "most days"):
    the caller decides whether that needs saying. A message that is only a number
    ("about 10") means days a month. A range ("8 to 10") counts as its midpoint,
    rounded half up. Weekly figures become days a month (x 52/12, rounded half up).
    """
    if not text:
        return None
    if _DAILY.search(text):
        return Frequency(days_per_month=30, stated="every day", per_week=False)
    match = _FREQUENCY.search(text) or _BARE.search(text)
    if match is None:
        return None
    stated = match.group(0).strip()
    low = _to_number(match.group("low"))
    high_token = match.group("high")
    high = _to_number(high_token) if high_token else low
    low, high = min(low, high), max(low, high)
    value = (low + high) / 2
    period = match.groupdict().get("period") or "month"
    per_week = period.lower().startswith("w")
    if per_week:
        if high > MAX_DAYS_PER_WEEK:
            return BadFrequency(FrequencyProblem.TOO_MANY_PER_WEEK, stated)
        return Frequency(round_half_up(value * WEEKS_PER_MONTH), stated, per_week=True)
    if high > MAX_DAYS_PER_MONTH:
        return BadFrequency(FrequencyProblem.TOO_MANY_PER_MONTH, stated)
    if low == high and value != int(value):
        return BadFrequency(FrequencyProblem.NOT_WHOLE_DAYS, stated)
    return Frequency(round_half_up(value), stated, per_week=False)
