"""Queries of the programs domain: registrations by session, and each program row's results by month."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.contracts.models import Contract, ContractChannel, ContractStatus
from service.fairs.models import Fair
from service.lib.clock import SEOUL
from service.programs.models import (
    CooperationActivity,
    ProgramSession,
    RegistrationStatus,
    SessionRegistration,
    SessionStatus,
)


async def lock_session(session: AsyncSession, session_id: uuid.UUID) -> ProgramSession | None:
    """The session's row, locked: registering and cancelling on one session run one at a time."""
    found: ProgramSession | None = await session.scalar(
        select(ProgramSession)
        .where(ProgramSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found


async def registration(session: AsyncSession, registration_id: uuid.UUID) -> SessionRegistration | None:
    found: SessionRegistration | None = await session.scalar(
        select(SessionRegistration)
        .where(SessionRegistration.id == registration_id)
        .execution_options(populate_existing=True)
    )
    return found


async def registered_count(session: AsyncSession, session_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                SessionRegistration.session_id == session_id,
                SessionRegistration.status == RegistrationStatus.REGISTERED,
            )
        )
        or 0
    )


async def live_user_ids(session: AsyncSession, session_id: uuid.UUID, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(SessionRegistration.user_id).where(
            SessionRegistration.session_id == session_id,
            SessionRegistration.user_id.in_(user_ids),
            SessionRegistration.status != RegistrationStatus.CANCELLED,
        )
    )
    return set(rows)


async def first_waiting(session: AsyncSession, session_id: uuid.UUID) -> SessionRegistration | None:
    found: SessionRegistration | None = await session.scalar(
        select(SessionRegistration)
        .where(
            SessionRegistration.session_id == session_id,
            SessionRegistration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(SessionRegistration.created_at, SessionRegistration.id)
        .limit(1)
    )
    return found


async def counts(session: AsyncSession, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """{session id: (registered, waitlisted)}."""
    if not session_ids:
        return {}
    rows = await session.execute(
        select(SessionRegistration.session_id, SessionRegistration.status, func.count())
        .where(SessionRegistration.session_id.in_(session_ids))
        .group_by(SessionRegistration.session_id, SessionRegistration.status)
    )
    out: dict[uuid.UUID, tuple[int, int]] = {}
    for session_id, status, n in rows.all():
        registered, waitlisted = out.get(session_id, (0, 0))
        if status == RegistrationStatus.REGISTERED:
            registered = int(n)
        elif status == RegistrationStatus.WAITLISTED:
            waitlisted = int(n)
        out[session_id] = (registered, waitlisted)
    return out


def sessions_query(audience_kind: str | None, upcoming_from: datetime | None) -> Select[tuple[ProgramSession]]:
    query = select(ProgramSession)
    if audience_kind is not None:
        wanted = {"agency": "agencies", "firm": "firms"}.get(audience_kind, "both")
        query = query.where(
            ProgramSession.status == SessionStatus.SCHEDULED,
            ProgramSession.audience.in_([wanted, "both"]),
        )
    if upcoming_from is not None:
        query = query.where(ProgramSession.ends_at >= upcoming_from)
    return query


# ---- results by month (Seoul calendar) -------------------------------------------------------


def _month_of(column: Any) -> Any:
    return extract("month", func.timezone("Asia/Seoul", column))


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=SEOUL), datetime(year + 1, 1, 1, tzinfo=SEOUL)


def _by_month(rows: list[tuple[Any, Any]]) -> dict[int, int]:
    return {int(month): int(n) for month, n in rows}


async def sessions_held(session: AsyncSession, year: int, moment: datetime) -> tuple[dict[int, int], int]:
    """Sessions held by month (not cancelled, over by `moment`), and their attendees in the year."""
    start, end = _year_bounds(year)
    held = and_(
        ProgramSession.status == SessionStatus.SCHEDULED,
        ProgramSession.starts_at >= start,
        ProgramSession.starts_at < end,
        ProgramSession.ends_at <= moment,
    )
    month = _month_of(ProgramSession.starts_at)
    rows = await session.execute(select(month, func.count()).where(held).group_by(month))
    attendees = await session.scalar(
        select(func.count())
        .select_from(SessionRegistration)
        .join(ProgramSession, ProgramSession.id == SessionRegistration.session_id)
        .where(held, SessionRegistration.attended.is_(True))
    )
    return _by_month(list(rows.tuples())), int(attendees or 0)


async def contracts_by_month(session: AsyncSession, year: int, channel: ContractChannel) -> dict[int, int]:
    """Confirmed contract amounts of one channel by month of the contract date."""
    month = extract("month", Contract.contract_date)
    rows = await session.execute(
        select(month, func.sum(Contract.amount_krw))
        .where(
            Contract.status == ContractStatus.CONFIRMED,
            Contract.channel == channel,
            Contract.contract_date >= date(year, 1, 1),
            Contract.contract_date < date(year + 1, 1, 1),
        )
        .group_by(month)
    )
    return _by_month(list(rows.tuples()))


async def fairs_held(session: AsyncSession, year: int, today: date) -> dict[int, int]:
    """Fairs by month of their first day, counted once their last day has come."""
    rows = await session.execute(select(Fair.days))
    out: dict[int, int] = {}
    for (days,) in rows.tuples():
        dates = sorted(date.fromisoformat(str(d["date"])) for d in days or [])
        if dates and dates[0].year == year and dates[-1] <= today:
            out[dates[0].month] = out.get(dates[0].month, 0) + 1
    return out


async def activities_by_month(session: AsyncSession, year: int) -> dict[int, int]:
    month = extract("month", CooperationActivity.activity_date)
    rows = await session.execute(
        select(month, func.count())
        .where(
            CooperationActivity.activity_date >= date(year, 1, 1),
            CooperationActivity.activity_date < date(year + 1, 1, 1),
        )
        .group_by(month)
    )
    return _by_month(list(rows.tuples()))
