"""Staff insights (issue 21): what visitors asked and what the bot could not answer.

Reads the tracker store (``events``, Rasa 3.6 SQLTrackerStore schema) within the retention
period and writes a self-contained HTML report, CSV files and a draft of new NLU examples.
Entry point: ``scripts/report.py`` (``make report``, ``make export-unanswered``).
"""
