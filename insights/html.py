"""The report as one self-contained HTML page: inline SVG charts, no script, no network.

Charts are drawn with matplotlib (already installed as a Rasa dependency; Agg backend, no
display needed) and inlined as SVG, so the file opens offline, prints sharply, and needs
no JavaScript or CDN. A Content-Security-Policy forbids every network request.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from collections.abc import Sequence

with warnings.catch_warnings():
    # matplotlib 3.5 calls pyparsing APIs that pyparsing 3.1 deprecates: noise for staff.
    warnings.simplefilter("ignore")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

from insights.analysis import CATEGORIES
from insights.report import GROUPS_SHOWN, TIERS, Report, Table

COLOURS = ("#1f5f8b", "#e07b39", "#3a9d5d", "#b8433c", "#7a5ea8", "#8c6d3f", "#c4589b", "#6b7b8c")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = " ".join(
    """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;
  background:#f6f7f9}
header{background:#1f5f8b;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem;font-size:1.5rem}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
section{background:#fff;border-radius:8px;padding:1rem 1.4rem;margin:1rem 0;
  box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:1.15rem;margin:.2rem 0 .8rem}.note{color:#4a5968;font-size:.9rem}
.kpis{display:flex;flex-wrap:wrap;gap:1rem}
.kpi{flex:1 1 150px;background:#fff;border-radius:8px;padding:.8rem 1rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.kpi b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e7eb;vertical-align:top}
th{background:#eef2f5}td.n{text-align:right}
figure{margin:.5rem 0}figure svg{max-width:100%;height:auto}
""".split()
)


def _svg(figure: plt.Figure, chart_id: str) -> str:
    """The figure as inline SVG, its ids prefixed so several charts can share a page."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    for name in set(re.findall(r'id="([^"]+)"', svg)):
        svg = svg.replace(f'id="{name}"', f'id="{chart_id}-{name}"').replace(
            f"#{name})", f"#{chart_id}-{name})"
        )
        svg = svg.replace(f'href="#{name}"', f'href="#{chart_id}-{name}"')
    return svg


def _figure(height: float = 3.0) -> tuple[plt.Figure, plt.Axes]:
    plt.rcParams.update({"svg.hashsalt": "faqbot-report", "font.size": 9})
    figure, axes = plt.subplots(figsize=(9, height))
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _barh(labels: Sequence[str], values: Sequence[int], chart_id: str, colour: str = COLOURS[0]) -> str:
    figure, axes = _figure(max(1.6, 0.32 * len(labels) + 0.6))
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=colour)
    axes.set_yticks(positions, [label if len(label) <= 60 else label[:57] + "..." for label in labels])
    for position, value in zip(positions, values, strict=False):
        axes.annotate(str(value), (value, position), xytext=(3, 0), textcoords="offset points", va="center")
    axes.xaxis.get_major_locator().set_params(integer=True)
    return _svg(figure, chart_id)


def chart_daily(report: Report) -> str:
    """Conversations per day, stacked by channel, with messages as a line."""
    figure, axes = _figure(3.2)
    days = report.days
    bottom = [0] * len(days)
    for index, channel in enumerate(report.channels):
        values = [report.insights.conversations[(day, channel)] for day in days]
        axes.bar(days, values, bottom=bottom, color=COLOURS[index % len(COLOURS)], label=channel, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=False)]
    axes.set_ylabel("conversations")
    messages = axes.twinx()
    messages.plot(
        days,
        [sum(report.insights.messages[(d, c)] for c in report.channels) for d in days],
        color="#1d2733",
        linewidth=1.2,
        marker=".",
        label="messages",
    )
    messages.set_ylabel("messages")
    messages.spines[["top"]].set_visible(False)
    handles = axes.get_legend_handles_labels()[0] + messages.get_legend_handles_labels()[0]
    names = axes.get_legend_handles_labels()[1] + messages.get_legend_handles_labels()[1]
    axes.legend(handles, names, loc="upper left", frameon=False, ncol=min(len(names), 7))
    figure.autofmt_xdate()
    return _svg(figure, "daily")


def charts(report: Report) -> dict[str, str]:
    """Chart name -> inline SVG (a chart with nothing to show is left out)."""
    insights = report.insights
    result: dict[str, str] = {}
    if insights.messages:
        result["daily"] = chart_daily(report)
    top = insights.answers.most_common(15)
    if top:
        result["topics"] = _barh(
            [f"{t.question_type} / {t.treatment}" for t, _ in top], [n for _, n in top], "topics"
        )
    if any(insights.unanswered.values()):
        result["unanswered"] = _barh(
            list(CATEGORIES), [insights.unanswered[c] for c in CATEGORIES], "unanswered", COLOURS[1]
        )
    outcomes = [(k, v) for k, v in insights.did_you_mean.most_common() if k != "shown"]
    if outcomes:
        result["did_you_mean"] = _barh([k for k, _ in outcomes], [v for _, v in outcomes], "dym", COLOURS[4])
    safety = [(f"tier: {t}", insights.triage[f"tier: {t}"]) for t in TIERS] + sorted(
        insights.requests.items()
    )
    if any(v for _, v in safety):
        result["triage"] = _barh([k for k, _ in safety], [v for _, v in safety], "triage", COLOURS[3])
    groups = report.groups[:15]
    if groups:
        result["unanswered_groups"] = _barh(
            [g.label for g in groups], [g.messages for g in groups], "groups", COLOURS[2]
        )
    return result


def _cell(value: object) -> str:
    text = html.escape(str(value))
    return f'<td class="n">{text}</td>' if isinstance(value, int) else f"<td>{text}</td>"


def _table(table: Table, limit: int | None = None) -> str:
    rows = table.rows if limit is None else table.rows[:limit]
    head = "".join(f"<th scope=col>{html.escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows) or (
        f'<tr><td colspan="{len(table.headers)}">nothing in this period</td></tr>'
    )
    more = (
        f'<p class="note">{len(table.rows) - len(rows)} more in {table.name}.csv</p>'
        if len(rows) < len(table.rows)
        else ""
    )
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}{note}"


CHART_OF_TABLE = {
    "daily": "daily",
    "topics": "topics",
    "unanswered": "unanswered",
    "did_you_mean": "did_you_mean",
    "triage": "triage",
    "unanswered_groups": "unanswered_groups",
}


def render_html(report: Report, all_tables: list[Table]) -> str:
    """The whole page."""
    insights = report.insights
    window = report.window
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same pyparsing notices, when drawing
        svgs = charts(report)
    messages = sum(insights.messages.values())
    unanswered = sum(insights.unanswered.values())
    kpis = [
        ("conversations", insights.total_conversations),
        ("visitor messages", messages),
        ("answers given", sum(insights.answers.values())),
        ("unanswered turns", unanswered),
        ("safety guidance given", sum(v for k, v in insights.triage.items() if k.startswith("tier:"))),
    ]
    sections = []
    for table in all_tables:
        chart = svgs.get(CHART_OF_TABLE.get(table.name, ""), "")
        figure = (
            f'<figure role="img" aria-label="{html.escape(table.title)}">{chart}</figure>' if chart else ""
        )
        limit = GROUPS_SHOWN if table.name == "unanswered_groups" else None
        title = html.escape(table.title)
        sections.append(
            f'<section id="{table.name}"><h2>{title}</h2>{figure}{_table(table, limit)}</section>'
        )
    clamped = (
        '<p class="note">The start was moved to the oldest day the retention period allows.</p>'
        if window.clamped
        else ""
    )
    kpi_boxes = "".join(f'<div class="kpi"><b>{v}</b>{html.escape(k)}</div>' for k, v in kpis)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat report {window.first_day} to {window.last_day}</title><style>{STYLE}</style></head>
<body><header><h1>What visitors asked the headache-treatment chat</h1>
<div>{window.first_day:%d %B %Y} to {window.last_day:%d %B %Y} (UTC) &middot; no sender ids,
no conversations; message text only for unanswered turns, personal data redacted;
red-flag messages counted, never quoted</div></header>
<main>{clamped}<div class="kpis">{kpi_boxes}</div>
{"".join(sections)}
<p class="note">Made by <code>make report</code>. Next: <code>make export-unanswered</code> drafts NLU
examples from these groups for staff to label (README, "Improving the answers").</p></main></body></html>
"""
