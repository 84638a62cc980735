"""What the accounts domain announces (published with `service.lib.events.publish`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.accounts.models import Invitation
from service.lib.events import DomainEvent


@dataclass(frozen=True)
class MailPreferencesChanged(DomainEvent):
    """A user turned off optional mail kinds (`reminders`, `followups`, `digest`)."""

    user_id: uuid.UUID
    email: str
    turned_off: tuple[str, ...]


@dataclass(frozen=True)
class InvitationSent(DomainEvent):
    """An invitation was created or resent: the notify domain mails `token` (never stored) to its email.
    `sends` numbers the mails of one invitation, `inviter_name` signs it."""

    invitation: Invitation
    token: str
    inviter_name: str
    locale: str
