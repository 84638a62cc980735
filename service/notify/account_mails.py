"""Account events → mails: password reset link and notice, email change, email confirmation.

These mails carry obligations (they cannot be turned off) and go to one person: the address the
event names, never the organization.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import (
    AccountMail,
    EmailChangeRequested,
    EmailConfirmationRequested,
    PasswordChanged,
    PasswordResetRequested,
)
from service.config import Settings
from service.lib.clock import now
from service.lib.events import subscribe
from service.notify.service import Mail, enqueue_many


def _mail(event: AccountMail, settings: Settings, template: str, key: str, to: str, **values: Any) -> Mail:
    return Mail(
        dedupe_key=key,
        recipient=to,
        locale=event.locale,
        template=template,
        context={
            "user_name": event.name,
            "base_url": settings.app.base_url,
            "item_url": f"{settings.app.base_url}/me/account",
            "sent_at": now(),
            **values,
        },
        tz=settings.app.timezone,
    )


@subscribe(PasswordResetRequested)
async def on_password_reset_requested(session: AsyncSession, event: PasswordResetRequested, settings: Settings) -> None:
    link = f"{settings.app.base_url}/password-reset/confirm?token={event.token}"
    mail = _mail(event, settings, "password_reset", f"password_reset:{event.link_id.hex}", event.email, link=link)
    await enqueue_many(session, [mail])


@subscribe(PasswordChanged)
async def on_password_changed(session: AsyncSession, event: PasswordChanged, settings: Settings) -> None:
    reset = f"{settings.app.base_url}/password-reset"
    mail = _mail(
        event, settings, "password_changed", f"password_changed:{event.changed_id}", event.email, reset_url=reset
    )
    await enqueue_many(session, [mail])


@subscribe(EmailChangeRequested)
async def on_email_change_requested(session: AsyncSession, event: EmailChangeRequested, settings: Settings) -> None:
    link = f"{settings.app.base_url}/me/account/email/confirm?token={event.token}"
    key = event.link_id.hex
    await enqueue_many(
        session,
        [
            _mail(event, settings, "email_change_confirm", f"email_change:{key}", event.new_email,
                  link=link, new_email=event.new_email),
            _mail(event, settings, "email_change_notice", f"email_change_notice:{key}", event.email,
                  new_email=event.new_email, reset_url=f"{settings.app.base_url}/password-reset"),
        ],
    )  # fmt: skip


@subscribe(EmailConfirmationRequested)
async def on_email_confirmation_requested(
    session: AsyncSession, event: EmailConfirmationRequested, settings: Settings
) -> None:
    link = f"{settings.app.base_url}/confirm-email?token={event.token}"
    mail = _mail(event, settings, "email_confirm", f"email_confirm:{event.link_id.hex}", event.email, link=link)
    await enqueue_many(session, [mail])
