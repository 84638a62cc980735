"""Which mails are optional, and of which kind (the switches of service.accounts.preferences).

A template not listed here carries an obligation (a booking, a move, a cancellation, an
invitation, a verification, a password reset...) and always goes out. A new optional mail is
added here with its kind; the outbox then drops it for users who turned that kind off, both when
it is queued (service.notify.service.enqueue_many) and, for mails already queued, when the user
turns the kind off (the `MailPreferencesChanged` subscriber).
"""

from __future__ import annotations

OPTIONAL_TEMPLATES: dict[str, str] = {
    "meeting_reminder_24h": "reminders",
    "meeting_reminder_1h": "reminders",
    "meeting_request_unanswered": "reminders",
    "certification_expiring": "reminders",
    "consultation_reminder": "reminders",
    "meeting_followup_rating": "followups",
    "meeting_followup_contract": "followups",
    "firm_digest": "digest",
}


def kind_of(template: str) -> str | None:
    """The optional kind of a template's mails, or None for a mail that carries an obligation."""
    return OPTIONAL_TEMPLATES.get(template)


def templates_of(kind: str) -> list[str]:
    return sorted(t for t, k in OPTIONAL_TEMPLATES.items() if k == kind)
