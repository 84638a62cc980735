"""Races on separate connections: the database, not the code, keeps bookings exclusive."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.db.engine import make_engine, make_sessionmaker
from service.fairs.booking import BookingService, SlotTaken
from service.fairs.models import Meeting, MeetingStatus
from service.fairs.service import BookingRuleBroken
from service.identity.principal import Principal
from service.lib.errors import DomainError
from tests.factories_fairs import fair_days, seed_fair, seed_principals, starts


@pytest.fixture
async def wide_pool(database_url: str, settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url, pool_size=40)  # up to 80 connections at once
    yield make_sessionmaker(engine, settings)
    await engine.dispose()


async def run_all(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: list[Callable[[AsyncSession], Awaitable[object]]]
) -> list[object]:
    """Each job in its own transaction on its own pooled connection, all started together."""
    gate = asyncio.Event()

    async def one(job: Callable[[AsyncSession], Awaitable[object]]) -> object:
        await gate.wait()
        try:
            async with sessionmaker.begin() as session:
                return await job(session)
        except DomainError as exc:
            return exc

    tasks = [asyncio.create_task(one(job)) for job in jobs]
    await asyncio.sleep(0)
    gate.set()
    return list(await asyncio.gather(*tasks))


def booking(
    actor: Principal, fair_id: uuid.UUID, agency_id: uuid.UUID, start: datetime
) -> Callable[[AsyncSession], Awaitable[object]]:
    async def job(session: AsyncSession) -> object:
        return await BookingService(session).book(actor, fair_id, agency_id, start)

    return job


async def live_meetings(sessionmaker: async_sessionmaker[AsyncSession], **where: uuid.UUID) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).select_from(Meeting).where(Meeting.status != MeetingStatus.CANCELLED)
        for column, value in where.items():
            query = query.where(getattr(Meeting, column) == value)
        return int(await session.scalar(query) or 0)


class TestTwoHundredFirmsTenSlots:
    async def test_exactly_ten_meetings_and_one_hundred_ninety_clean_conflicts(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        (agency,) = await seed_principals(wide_pool, "agency", 1)
        firms = await seed_principals(wide_pool, "firm", 200)
        fair = await seed_fair(wide_pool, participants=[agency, *firms], days=fair_days("10:00", "15:00"))
        slots = starts(fair)
        assert len(slots) == 10
        assert agency.organization_id
        jobs = [booking(firm, fair.id, agency.organization_id, slots[i % 10]) for i, firm in enumerate(firms)]
        results = await run_all(wide_pool, jobs)
        booked = [r for r in results if isinstance(r, Meeting)]
        conflicts = [r for r in results if isinstance(r, SlotTaken)]
        assert len(booked) == 10
        assert len(conflicts) == 190, [r for r in results if not isinstance(r, (Meeting, SlotTaken))][:3]
        assert all(c.status == 409 and c.extra["rule"] == "slot_taken" for c in conflicts)
        assert sorted(m.starts_at for m in booked) == slots
        assert await live_meetings(wide_pool, fair_id=fair.id) == 10


class TestFirmRacingToTwoAgencies:
    async def test_one_firm_same_time_two_agencies_gets_one_meeting(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        agencies = await seed_principals(wide_pool, "agency", 2)
        (firm,) = await seed_principals(wide_pool, "firm", 1)
        fair = await seed_fair(wide_pool, participants=[*agencies, firm])
        slot = starts(fair)[3]
        for _ in range(5):  # repeat: the race must be lost the same way every time
            jobs = [booking(firm, fair.id, a.organization_id, slot) for a in agencies for _ in range(10)]  # type: ignore[arg-type]
            results = await run_all(wide_pool, jobs)
            assert sum(isinstance(r, Meeting) for r in results) <= 1
            assert all(isinstance(r, (Meeting, SlotTaken)) for r in results)
        assert firm.organization_id
        assert await live_meetings(wide_pool, firm_id=firm.organization_id) == 1

    async def test_firm_in_two_fairs_at_once_is_refused_across_fairs(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        agencies = await seed_principals(wide_pool, "agency", 2)
        (firm,) = await seed_principals(wide_pool, "firm", 1)
        fair_a = await seed_fair(wide_pool, participants=[agencies[0], firm])
        fair_b = await seed_fair(wide_pool, participants=[agencies[1], firm])
        slot = starts(fair_a)[0]
        results = await run_all(
            wide_pool,
            [
                booking(firm, fair_a.id, agencies[0].organization_id, slot),  # type: ignore[arg-type]
                booking(firm, fair_b.id, agencies[1].organization_id, slot),  # type: ignore[arg-type]
            ],
        )
        assert sorted(type(r).__name__ for r in results) == ["Meeting", "SlotTaken"]
        taken = next(r for r in results if isinstance(r, SlotTaken))
        assert taken.extra["rule"] == "firm_overlap"


class TestLimitUnderConcurrency:
    async def test_a_limit_of_two_holds_when_a_firm_books_ten_tables_at_once(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        agencies = await seed_principals(wide_pool, "agency", 10)
        (firm,) = await seed_principals(wide_pool, "firm", 1)
        fair = await seed_fair(wide_pool, participants=[*agencies, firm], limit=2)
        slots = starts(fair)
        jobs = [booking(firm, fair.id, a.organization_id, slots[i]) for i, a in enumerate(agencies)]  # type: ignore[arg-type]
        results = await run_all(wide_pool, jobs)
        assert sum(isinstance(r, Meeting) for r in results) == 2
        refused = [r for r in results if not isinstance(r, Meeting)]
        assert all(isinstance(r, BookingRuleBroken) and r.rule == "limit" for r in refused)


class TestMovesRacingBookings:
    async def test_a_move_and_bookings_into_the_same_slot_leave_one_meeting_there(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        (agency,) = await seed_principals(wide_pool, "agency", 1)
        firms = await seed_principals(wide_pool, "firm", 21)
        fair = await seed_fair(wide_pool, participants=[agency, *firms])
        slots = starts(fair)
        assert agency.organization_id
        async with wide_pool.begin() as session:
            mover = await BookingService(session).book(firms[0], fair.id, agency.organization_id, slots[0])
        target = slots[5]

        async def move(session: AsyncSession) -> object:
            return await BookingService(session).move(firms[0], mover.id, target)

        jobs = [move] + [booking(f, fair.id, agency.organization_id, target) for f in firms[1:]]
        results = await run_all(wide_pool, jobs)
        winners = [r for r in results if isinstance(r, Meeting)]
        assert len(winners) == 1
        assert all(isinstance(r, SlotTaken) for r in results if not isinstance(r, Meeting))
        async with wide_pool() as session:
            at_target = await session.scalar(
                select(func.count())
                .select_from(Meeting)
                .where(
                    Meeting.agency_id == agency.organization_id, Meeting.starts_at == target, Meeting.status == "booked"
                )
            )
            assert at_target == 1
            moved = await session.get(Meeting, mover.id)
            assert moved is not None
            if winners[0].id == mover.id:
                assert moved.starts_at == target and moved.sequence == 1
            else:
                assert moved.starts_at == slots[0] and moved.sequence == 0


class TestMarkingRacingBookings:
    async def test_a_slot_never_ends_up_both_unavailable_and_booked(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        """The agency marks a slot while firms book it and a booked meeting is moved into it."""
        from service.fairs.models import Unavailability
        from service.fairs.service import FairService

        (agency,) = await seed_principals(wide_pool, "agency", 1)
        firms = await seed_principals(wide_pool, "firm", 12)
        fair = await seed_fair(wide_pool, participants=[agency, *firms])
        slots = starts(fair)
        assert agency.organization_id
        async with wide_pool.begin() as session:
            mover = await BookingService(session).book(firms[0], fair.id, agency.organization_id, slots[-1])

        async def mark(slot: datetime) -> Callable[[AsyncSession], Awaitable[object]]:
            async def job(session: AsyncSession) -> object:
                loaded = await FairService(session).get(fair.id)
                return await FairService(session).set_unavailable(agency, loaded, [slot])

            return job

        for slot in slots[:5]:  # each round a fresh slot: mark / book / move all at once

            async def move(session: AsyncSession, target: datetime = slot) -> object:
                return await BookingService(session).move(firms[0], mover.id, target)

            jobs = [await mark(slot), move] + [booking(f, fair.id, agency.organization_id, slot) for f in firms[1:]]
            results = await run_all(wide_pool, jobs)
            marked = results[0]
            assert isinstance(marked, list) or (isinstance(marked, BookingRuleBroken) and marked.rule == "meeting")
            assert all(
                isinstance(r, Meeting | SlotTaken)
                or (isinstance(r, BookingRuleBroken) and r.rule in ("unavailable", "limit"))
                for r in results[1:]
            ), results
            async with wide_pool() as session:
                unavailable = set(
                    await session.scalars(
                        select(Unavailability.starts_at).where(
                            Unavailability.fair_id == fair.id, Unavailability.organization_id == agency.organization_id
                        )
                    )
                )
                booked = set(
                    await session.scalars(
                        select(Meeting.starts_at).where(
                            Meeting.fair_id == fair.id, Meeting.status != MeetingStatus.CANCELLED
                        )
                    )
                )
            assert not unavailable & booked, (slot, unavailable & booked)
            assert (slot in unavailable) == isinstance(marked, list)
