"""Mails of briefing and training sessions: registered or waiting, moved up, a reminder the day
before, the materials. One mail per registration and kind (dedupe keys); a cancelled registration's
pending reminder is withdrawn."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.models import User
from service.config import Settings
from service.lib.clock import now
from service.lib.events import subscribe
from service.notify.service import Mail, cancel_pending, enqueue_many
from service.programs.events import SessionMaterialsShared, SessionRegistered, SessionSeatFreed
from service.programs.models import ProgramSession, RegistrationStatus, SessionRegistration

REMINDER_BEFORE = timedelta(hours=24)


def _key(registration: SessionRegistration, kind: str) -> str:
    return f"session:{registration.session_id.hex}:{registration.id.hex}:{kind}"


def _mail(
    settings: Settings, session: ProgramSession, registration: SessionRegistration, user: User, kind: str
) -> Mail:
    due = session.starts_at - REMINDER_BEFORE if kind == "reminder" else None
    return Mail(
        dedupe_key=_key(registration, kind),
        recipient=user.email,
        locale=user.locale,
        template="program_session",
        context={
            "kind": kind,
            "user_name": user.name,
            "title": session.title,
            "starts_at": session.starts_at,
            "place": session.place or "",
            "online_url": session.online_url or "",
            "materials_url": session.materials_url or "",
            "base_url": settings.app.base_url,
            "item_url": f"{settings.app.base_url}/programs/sessions/{session.id}",
        },
        due_at=due,
        tz=settings.app.timezone,
    )


async def _seat_mails(
    session: AsyncSession, settings: Settings, target: ProgramSession, registration: SessionRegistration, kind: str
) -> None:
    user = await session.get(User, registration.user_id)
    if user is None or not user.is_active:
        return
    mails = [_mail(settings, target, registration, user, kind)]
    if registration.status == RegistrationStatus.REGISTERED and target.starts_at - REMINDER_BEFORE > now():
        mails.append(_mail(settings, target, registration, user, "reminder"))
    await enqueue_many(session, mails)


@subscribe(SessionRegistered)
async def on_registered(session: AsyncSession, event: SessionRegistered, settings: Settings) -> None:
    await _seat_mails(session, settings, event.session, event.registration, str(event.registration.status))


@subscribe(SessionSeatFreed)
async def on_seat_freed(session: AsyncSession, event: SessionSeatFreed, settings: Settings) -> None:
    await cancel_pending(session, _key(event.cancelled, "reminder"))
    if event.promoted is not None:
        await _seat_mails(session, settings, event.session, event.promoted, "promoted")


@subscribe(SessionMaterialsShared)
async def on_materials(session: AsyncSession, event: SessionMaterialsShared, settings: Settings) -> None:
    rows = await session.execute(
        select(SessionRegistration, User)
        .join(User, User.id == SessionRegistration.user_id)
        .where(
            SessionRegistration.session_id == event.session.id,
            SessionRegistration.status == RegistrationStatus.REGISTERED,
            User.is_active.is_(True),
        )
    )
    # once per link: sharing a corrected link mails again
    stamp = hashlib.sha256((event.session.materials_url or "").encode()).hexdigest()[:12]
    mails = [
        replace(mail, dedupe_key=f"{mail.dedupe_key}:{stamp}")
        for mail in (_mail(settings, event.session, r, u, "materials") for r, u in rows.tuples())
    ]
    await enqueue_many(session, mails)
