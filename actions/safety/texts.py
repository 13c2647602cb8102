"""What the handoff says: the clinic's contact details, where to book, and the reply to
questions on themes with no reviewed answer yet or about the clinic itself; and the reply to a
confirmed "forget me"."""

from __future__ import annotations

from actions.settings import Settings

BOOK_INTENT = "book_appointment"
# On-topic questions on themes with no reviewed answer yet (what to wear, aftercare, children, ...).
NOT_COVERED_INTENT = "ask_not_covered_yet"
NOT_COVERED_TEXT = (
    "That's a fair question, but I don't have a reviewed answer about it yet, and I'd rather not guess. "
    "Your practitioner or the clinic can answer it."
)
# Questions about this clinic itself (hours, address, access, plans it takes, its own prices):
# the bot cannot know them; the clinic's contact details answer them.
CLINIC_DETAILS_INTENT = "ask_clinic_details"
CLINIC_DETAILS_TEXT = (
    "I don't have this clinic's own details, such as its address, parking and access, the plans it "
    "takes or its prices, so I'd rather not guess."
)
# What the visitor is told once the request is recorded: never "done", which is not
# true yet (the deletion can only run after Rasa has saved this very turn).
FORGET_ME_PENDING_TEXT = (
    "OK: this conversation and everything stored about it are being deleted from the clinic's "
    "records. This usually takes less than a minute; if the records can't be reached right now, "
    "I keep trying until it is done. If you write again after that, a new conversation starts."
)


def contact_text(settings: Settings) -> str:
    """The clinic's contact details, one per line (links work on every channel)."""
    clinic = settings.clinic
    lines = [
        f"You can reach the team at {clinic.name}:",
        f"- Phone: {clinic.phone}" if clinic.phone else "",
        f"- Email: {clinic.email}" if clinic.email else "",
        f"- Opening hours: {clinic.hours}" if clinic.hours else "",
        f"- Book online: {clinic.booking_url}" if clinic.booking_url else "",
    ]
    return "\n".join(line for line in lines if line)


def booking_text(settings: Settings) -> str:
    """Where to book, then the phone as the alternative."""
    clinic = settings.clinic
    if clinic.booking_url:
        first = f"You can book an appointment with {clinic.name} online: {clinic.booking_url}"
    else:
        first = f"To book an appointment with {clinic.name}, please contact the clinic."
    alternative = f"Or call {clinic.phone} ({clinic.hours})." if clinic.phone else ""
    return f"{first}\n{alternative}".strip()
