"""Safety layer (issue 4): scope limits, clinic handoff, privacy.

Red-flag triage is in ``actions.triage``.

- ``notice``: the privacy notice and the disclaimer, once per conversation.
- ``texts``: what the handoff and a confirmed "forget me" say.
- ``actions``: ``action_decline_diagnosis``, ``action_decline_medication_advice``,
  ``action_handoff``, ``action_forget_me``.
- ``eraser``: the background deletion behind "forget me" and its running tasks.
- ``retention``: the daily purge (``purge-conversations``).

The settings (``SafetySettings``, ``get_safety_settings``) are in ``actions.settings``.
Our code never logs message text; see docs/safety.md for the log levels.
"""

from __future__ import annotations

# Still imported from here by actions.credentials and actions.legal.
from actions.safety.notice import first_answer_notes, privacy_notice_events
from actions.settings import SafetySettings

__all__ = ["SafetySettings", "first_answer_notes", "privacy_notice_events"]
