"""Mails of everyday consultations (일상상담), queued in the outbox inside the transaction that changed
the consultation: proposed times to the requester; on confirmation an invite (.ics) to the requester's
people and the staff member, with a reminder a day before; on cancellation the invite's withdrawal.

A moved or cancelled consultation's queued reminders are cancelled (their dedupe keys share a prefix).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import User
from service.config import Settings
from service.consultations.events import ConsultationCancelled, ConsultationConfirmed, ConsultationProposed
from service.consultations.models import Consultation, ConsultationMode
from service.fairs.calendar import Attendee, InviteData
from service.lib.clock import now
from service.lib.events import subscribe
from service.notify.service import InviteAttachment, Mail, cancel_pending, enqueue_many
from service.registry.models import Organization

REMINDER_BEFORE = timedelta(hours=24)
TOPIC_LABELS = {
    "procedure": "Public procurement procedure",
    "certification": "Certification and eligibility",
    "bidding": "Bidding and private contracts",
    "product_price": "Products and prices",
    "other": "Other",
}


def reminder_prefix(consultation_id: uuid.UUID) -> str:
    return f"consultation-reminder:{consultation_id.hex}:"


async def _people(session: AsyncSession, c: Consultation) -> tuple[Organization | None, list[User]]:
    """The requester's organization and everyone to write to: its active users, then the staff member."""
    organization = await session.get(Organization, c.organization_id)
    users = list(
        (
            await session.scalars(
                select(User)
                .where(User.organization_id == c.organization_id, User.is_active.is_(True))
                .order_by(User.email)
            )
        ).all()
    )
    if c.staff_id is not None:
        staff = await session.get(User, c.staff_id)
        if staff is not None and staff.is_active:
            users.append(staff)
    return organization, users


def _invite(
    c: Consultation, organization: Organization | None, users: list[User], settings: Settings
) -> InviteAttachment:
    """The consultation's invite as a recipe, rendered by the dispatcher when it sends the mails."""
    assert c.starts_at is not None and c.ends_at is not None  # noqa: PT018
    center_name, center_email = parseaddr(settings.smtp.mail_from)
    online = c.mode == ConsultationMode.ONLINE
    data = InviteData(
        meeting_id=c.id,
        sequence=c.sequence,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        summary=f"일상상담: {organization.name if organization else ''}",
        description=c.message[:500],
        room_url=c.place if online and c.place.startswith("https://") else None,
        organizer=Attendee(center_name or "procure-match", center_email),
        attendees=tuple(Attendee(u.name, u.email) for u in users),
        stamp=now(),
    )
    return InviteAttachment(data, "CANCEL" if c.status.value == "cancelled" else "REQUEST")


def _context(c: Consultation, organization: Organization | None, user: User, settings: Settings) -> dict[str, Any]:
    return {
        "user_name": user.name,
        "organization_name": organization.name if organization else "",
        "topic": TOPIC_LABELS[c.topic.value],
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "in_person": c.mode == ConsultationMode.IN_PERSON,
        "place": c.place,
        "proposed": [datetime.fromisoformat(p["start"]) for p in c.proposed],
        "base_url": settings.app.base_url,
        "item_url": f"{settings.app.base_url}/consultations/{c.id}",
    }


def _mails(
    c: Consultation,
    organization: Organization | None,
    users: list[User],
    settings: Settings,
    template: str,
    key: str,
    attachments: tuple[InviteAttachment, ...] = (),
) -> list[Mail]:
    return [
        Mail(
            dedupe_key=f"{key}:{user.id.hex}",
            recipient=user.email,
            locale=user.locale,
            template=template,
            context=_context(c, organization, user, settings),
            attachments=attachments,
            tz=settings.app.timezone,
        )
        for user in users
    ]


@subscribe(ConsultationProposed)
async def on_consultation_proposed(session: AsyncSession, event: ConsultationProposed, settings: Settings) -> None:
    """The requester's people are asked to pick one of the proposed times."""
    c = event.consultation
    organization, users = await _people(session, c)
    requesters = [u for u in users if u.organization_id == c.organization_id]
    stamp = "-".join(p["start"] for p in c.proposed)
    await enqueue_many(
        session,
        _mails(
            c, organization, requesters, settings, "consultation_proposed", f"consultation:{c.id.hex}:proposed:{stamp}"
        ),
    )


@subscribe(ConsultationConfirmed)
async def on_consultation_confirmed(session: AsyncSession, event: ConsultationConfirmed, settings: Settings) -> None:
    """Invite everyone (the requester's people and the staff member) and queue a reminder a day before."""
    c = event.consultation
    assert c.starts_at is not None
    organization, users = await _people(session, c)
    await cancel_pending(session, reminder_prefix(c.id))
    invite = _invite(c, organization, users, settings)
    key = f"consultation:{c.id.hex}:confirmed:{c.sequence}"
    mails = _mails(c, organization, users, settings, "consultation_confirmed", key, (invite,))
    due = c.starts_at - REMINDER_BEFORE
    if due > now():
        stamp = int(c.starts_at.timestamp())
        for mail in _mails(
            c, organization, users, settings, "consultation_reminder", f"{reminder_prefix(c.id)}{stamp}"
        ):
            mails.append(dataclasses.replace(mail, due_at=due))
    await enqueue_many(session, mails)


@subscribe(ConsultationCancelled)
async def on_consultation_cancelled(session: AsyncSession, event: ConsultationCancelled, settings: Settings) -> None:
    """Tell the requester's people and the staff member; a confirmed one's invite is withdrawn."""
    c = event.consultation
    await cancel_pending(session, reminder_prefix(c.id))
    organization, users = await _people(session, c)
    attachments = (_invite(c, organization, users, settings),) if event.was_confirmed else ()
    await enqueue_many(
        session,
        _mails(
            c,
            organization,
            users,
            settings,
            "consultation_cancelled",
            f"consultation:{c.id.hex}:cancelled",
            attachments,
        ),
    )
