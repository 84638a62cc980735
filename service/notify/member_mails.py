"""Mails of the accounts domain's member events (imported by service.notify.subscribers)."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import InvitationSent
from service.config import Settings
from service.lib.events import subscribe
from service.notify.service import Mail, enqueue_many


@subscribe(InvitationSent)
async def on_invitation_sent(session: AsyncSession, event: InvitationSent, settings: Settings) -> None:
    """The invitee gets the one-time link; each send is its own mail (a resend carries a new token)."""
    invitation = event.invitation
    link = f"{settings.app.base_url}/invitations/accept?token={quote(event.token)}"
    await enqueue_many(
        session,
        [
            Mail(
                dedupe_key=f"invitation:{invitation.id.hex}:{invitation.sends}",
                recipient=invitation.email,
                locale=event.locale,
                template="member_invitation",
                context={
                    "organization_name": invitation.organization.name,
                    "inviter_name": event.inviter_name,
                    "role": invitation.role,
                    "accept_url": link,
                    "expires_at": invitation.expires_at,
                    "base_url": settings.app.base_url,
                    "item_url": link,
                },
                tz=settings.app.timezone,
            )
        ],
    )
