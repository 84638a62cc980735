"""What accounts announce (published with `service.lib.events.publish`); service/notify mails them.

The events that carry a one-time link carry its secret (`token`): the mail is the only place it is
ever written besides its hash, and the outbox row that holds it is the mail itself.
"""

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


@dataclass(frozen=True)
class AccountMail(DomainEvent):
    """Base of the account events: whom to write to, in which language."""

    user_id: uuid.UUID
    email: str
    name: str
    locale: str


@dataclass(frozen=True)
class PasswordResetRequested(AccountMail):
    link_id: uuid.UUID
    token: str


@dataclass(frozen=True)
class PasswordChanged(AccountMail):
    """The password was set (after a reset or in the settings): the owner is told."""

    changed_id: str


@dataclass(frozen=True)
class EmailChangeRequested(AccountMail):
    """`email` is the current address (told of the change); `new_email` receives the link."""

    link_id: uuid.UUID
    token: str
    new_email: str


@dataclass(frozen=True)
class EmailConfirmationRequested(AccountMail):
    link_id: uuid.UUID
    token: str
