"""Wording of the expectations answers (pure): the answer parts, the personal range, sources.

The form, the ask actions and the answer action that send these are in actions.expectations.
"""

from __future__ import annotations

from datetime import date

from actions.evidence_ranges import (
    BadFrequency,
    FrequencyProblem,
    NoEstimate,
    NoEstimateReason,
    PersonalRange,
    TrialAverages,
    personal_range,
    whole_days,
)
from actions.rendering import CitedSource, ShortFirstAnswer, format_date, format_sources
from actions.store.evidence_data import format_figure
from actions.store.evidence_repository import (
    CONDITION_LABELS,
    ESTIMATE_FIGURES,
    TREATMENT_LABELS,
    EvidenceRow,
    EvidenceSource,
)
from actions.store.records import Source


def days_phrase(count: int) -> str:
    """1 -> "1 day", 8 -> "8 days"."""
    return f"{count} day" if count == 1 else f"{count} days"


# ----------------------------------------------------------------------------- rendering (pure)


def trial_averages(row: EvidenceRow) -> TrialAverages | None:
    """The row's sourced figures for the personal range, or None when it has none."""
    values = {figure.name: figure.value for figure in row.figures}
    if row.estimate_comparison is None or not set(ESTIMATE_FIGURES) <= set(values):
        return None
    return TrialAverages(
        baseline_days=values["baseline_days"],
        treated_days=values["treated_days"],
        comparison_days=values["comparison_days"],
        responder_percent=values["responder_percent"],
        max_baseline_days=values["max_baseline_days"],
        comparison=row.estimate_comparison,
    )


def format_published(published: str) -> str:
    """ "2016-06-28" -> "28 June 2016", "2015-02" -> "February 2015", "2012" -> "2012"."""
    parts = [int(part) for part in published.split("-")]
    if len(parts) == 3:
        return format_date(date(parts[0], parts[1], parts[2]))
    if len(parts) == 2:
        return date(parts[0], parts[1], 1).strftime("%B %Y")
    return str(parts[0])


def render_sources(row: EvidenceRow, sources: tuple[EvidenceSource, ...] | None = None) -> str:
    """The sources (with their publication dates) and the row's review date."""
    cited = tuple(
        Source(title=f"{source.title} (published {format_published(source.published)})", url=source.url)
        for source in (sources if sources is not None else row.sources)
    )
    return f"{format_sources(cited)}\nLast reviewed {format_date(row.reviewed_on)}."


def cited_sources(sources: tuple[EvidenceSource, ...]) -> tuple[CitedSource, ...]:
    """The sources with their publication dates, for the channels' source links."""
    return tuple(
        CitedSource(source.title, source.url, f"published {format_published(source.published)}")
        for source in sources
    )


def render_personal(row: EvidenceRow, days: object) -> str:
    """The personal part: a rough range from trial averages, or why there is none."""
    treatment = TREATMENT_LABELS[row.treatment]
    averages = trial_averages(row)
    result = personal_range(days, averages)
    count = whole_days(days)
    if isinstance(result, PersonalRange) and averages is not None:
        return (
            "A rough guide from trial averages, not a prediction for you: in the published worked "
            f"example, someone starting at {format_figure(averages.baseline_days)} migraine days a month "
            f"drops on average to about {format_figure(averages.treated_days)} with {treatment} and about "
            f"{format_figure(averages.comparison_days)} with {averages.comparison}. Scaled to your "
            f"{days_phrase(result.days)} a month, that is about "
            f"{days_phrase(result.average_treated)} with {treatment}, "
            f"against about {days_phrase(result.average_comparison)} with {averages.comparison} alone. About "
            f"{result.responders_in_10} in 10 people at least halve their migraine days, which for you "
            f"would mean {days_phrase(result.halved_days)} or fewer; "
            "others improve less, and some see no change."
        )
    reason = result.reason if isinstance(result, NoEstimate) else NoEstimateReason.NO_FIGURES
    if reason is NoEstimateReason.NO_FIGURES or averages is None:
        said = f"You mentioned {days_phrase(count)} a month, but the" if count is not None else "The"
        return (
            f"{said} evidence for {treatment} and {CONDITION_LABELS[row.condition]} doesn't include the "
            "figures needed to turn it into a personal estimate, so I can't give you one."
        )
    if reason is NoEstimateReason.NOT_A_NUMBER or count is None:
        return "I couldn't use the number of days you gave, so I can't give you a personal estimate."
    if reason is NoEstimateReason.ZERO_DAYS:
        return "You mentioned 0 days a month, so there is nothing for these averages to reduce."
    if reason is NoEstimateReason.TOO_FEW_DAYS:
        return (
            f"With {days_phrase(count)} a month, the trial averages are too coarse to turn into a personal "
            "figure: they come out the same with or without treatment."
        )
    text = (
        f"You mentioned {days_phrase(count)} a month. The trials behind these figures included people with "
        f"{format_figure(averages.max_baseline_days)} or fewer headache days a month, so I can't scale "
        f"them to {days_phrase(count)}."
    )
    if row.condition == "episodic_migraine":
        text += " If your doctor has told you that you have chronic migraine, ask me about that instead."
    return text


def estimate_offer(row: EvidenceRow) -> str | None:
    """Invite a frequency, for rows that can turn one into a personal range."""
    if trial_averages(row) is None:
        return None
    return (
        "If you tell me how many migraine days you usually have in a month, I can turn these "
        "averages into a rough guide for you."
    )


def render_answer(row: EvidenceRow, days: object = None) -> ShortFirstAnswer:
    """The short answer first, then the detail (course; results; limits and doctor) and sources."""
    treatment = TREATMENT_LABELS[row.treatment]
    condition = CONDITION_LABELS[row.condition]
    text = {part.name: part.text for part in row.parts}
    personal = render_personal(row, days) if days is not None else estimate_offer(row)
    results = f"Realistic results: {text['results']}"
    if personal:
        results += f"\n\n{personal}"
    detail = "\n\n".join(
        [
            f"What to expect from {treatment} for {condition}: a guide from the research, not a promise.",
            f"Typical course: {text['course']}",
            f"When people notice a change: {text['onset']}",
            results,
            f"How sure the evidence is: {text['certainty']}",
            f"After the course: {text['maintenance']}",
            f"What it won't do: {text['limits']}",
            f"When to see a doctor instead: {text['see_doctor']}",
        ]
    )
    return ShortFirstAnswer(
        key=f"expectations_{row.treatment}_{row.condition}",
        short=text["short"],
        detail=detail,
        sources=cited_sources(row.sources),
        sources_text=render_sources(row),
        note=f"Last reviewed {format_date(row.reviewed_on)}.",
    )


def frequency_problem_message(problem: BadFrequency | None) -> str:
    """A clear message for a frequency that can't be used (None: no number found)."""
    if problem is None:
        return (
            "I couldn't find a number of days in that. You can say it like \"about eight migraine days "
            'a month" or "two a week".'
        )
    if problem.problem is FrequencyProblem.TOO_MANY_PER_WEEK:
        return f'"{problem.stated}" is more than the 7 days a week has. Could you check the number?'
    if problem.problem is FrequencyProblem.TOO_MANY_PER_MONTH:
        return f'"{problem.stated}" is more days than a month has. Could you check the number?'
    return 'Please give a whole number of days, for example "about eight days a month".'
