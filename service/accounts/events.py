"""What the accounts domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.lib.events import DomainEvent


@dataclass(frozen=True)
class MailPreferencesChanged(DomainEvent):
    """A user turned off optional mail kinds (`reminders`, `followups`, `digest`)."""

    user_id: uuid.UUID
    email: str
    turned_off: tuple[str, ...]
