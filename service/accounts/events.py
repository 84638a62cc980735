"""What accounts announce (published with `service.lib.events.publish`); service/notify mails them.

The events that carry a one-time link carry its secret (`token`): the mail is the only place it is
ever written besides its hash, and the outbox row that holds it is the mail itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from service.lib.events import DomainEvent


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
