"""Mails owed because time passed, not because something happened: found by a periodic sweep.

Idempotent by construction: each mail's dedupe key names its cause (the request, the
certification date), so a sweep that runs twice, or in two instances at once, queues it once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.models import AgendaStatus, Fair, Meeting, MeetingRating, MeetingRequest, RequestStatus
from service.lib.clock import now, today
from service.notify.models import OutboxMessage, OutboxStatus
from service.notify.subscribers import mail_organization, request_mail, stop_rating_requests
from service.registry.models import Organization, OrganizationKind, OrganizationStatus

UNANSWERED_AFTER = timedelta(days=2)
CERTIFICATION_WARNING = timedelta(days=30)


async def remind_unanswered_requests(session: AsyncSession, settings: Settings) -> int:
    """Remind agencies of requests pending for two days, except in fairs whose agenda is final
    (finalizing closes them; this also covers rows left pending by an older build)."""
    requests = (
        await session.scalars(
            select(MeetingRequest)
            .join(Fair, Fair.id == MeetingRequest.fair_id)
            .where(
                MeetingRequest.status == RequestStatus.PENDING,
                MeetingRequest.created_at <= now() - UNANSWERED_AFTER,
                Fair.agenda_status != AgendaStatus.FINAL,
            )
        )
    ).all()
    for request in requests:
        await request_mail(session, settings, request, "unanswered", to_agency=True)
    return len(requests)


async def warn_expiring_certifications(session: AsyncSession, settings: Settings) -> int:
    first_day = today()
    firms = (
        await session.scalars(
            select(Organization).where(
                Organization.kind == OrganizationKind.FIRM,
                Organization.status == OrganizationStatus.VERIFIED,
                Organization.certified_until >= first_day,
                Organization.certified_until <= first_day + CERTIFICATION_WARNING,
            )
        )
    ).all()
    for firm in firms:
        assert firm.certified_until is not None
        key = f"certification:{firm.id.hex}:{firm.certified_until.isoformat()}"
        await mail_organization(
            session,
            settings,
            firm,
            "certification_expiring",
            key,
            certified_until=firm.certified_until,
            item_url=f"{settings.app.base_url}/me",
        )
    return len(firms)


NO_DEAL = (MeetingRating.DID_NOT_TAKE_PLACE, MeetingRating.INSUFFICIENT_INTEREST)


async def stop_questions_after_no_deal(session: AsyncSession) -> int:
    """Cancel the queued contract questions of meetings either side rated as no deal.

    The `MeetingRated` subscriber does this at once; this sweep is the safety net for ratings
    recorded without the event (an older fairs build, a staff correction in SQL). Dedupe keys
    look like `followup:<meeting hex>:contract:<label>:...`, so the meeting is the key's 2nd part.
    """
    no_deal = select(func.replace(cast(Meeting.id, String), "-", "")).where(
        or_(Meeting.agency_rating.in_(NO_DEAL), Meeting.firm_rating.in_(NO_DEAL))
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.dedupe_key.like("followup:%:contract:%"),
            func.split_part(OutboxMessage.dedupe_key, ":", 2).in_(no_deal),
        )
        .values(status=OutboxStatus.CANCELLED, updated_at=func.now())
        .returning(OutboxMessage.id)
    )
    return len(result.all())


async def sweep(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """The periodic job: queue the reminders and warnings that have come due, stop settled questions
    (and rating requests to a side that rated without the `MeetingRated` event)."""
    async with sessionmaker.begin() as session:
        await remind_unanswered_requests(session, settings)
        await warn_expiring_certifications(session, settings)
        await stop_questions_after_no_deal(session)
        await stop_rating_requests(session)
