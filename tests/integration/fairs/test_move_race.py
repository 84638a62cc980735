"""Concurrent moves into one slot: every mover gets its meeting (200) or SlotTaken (409), never a 5xx.

How the deadlock came about: under an exclusion constraint a row's index entry goes in before
the check, and a check that meets an uncommitted conflicting entry waits for its transaction.
Many moves into one slot all wait for the first; when that one fails after all (its firm is
busy at that time elsewhere, so the firm constraint refuses it) they wake together, each sees
the others' entries, and they wait for each other: PostgreSQL kills all but one with 40P01."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.db.engine import connect_raw, make_engine, make_sessionmaker
from service.fairs.booking import BookingService, SlotTaken
from service.fairs.models import Meeting, MeetingStatus
from service.identity.principal import Principal
from service.lib.errors import DomainError
from tests.factories_fairs import fair_days, seed_fair, seed_principals, starts

MEETINGS = 20
BURSTS = 10


@pytest.fixture
async def wide_pool(database_url: str, settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url, pool_size=25)  # up to 50 connections: every mover has its own
    yield make_sessionmaker(engine, settings)
    await engine.dispose()


async def run_all(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: list[Callable[[AsyncSession], Awaitable[object]]]
) -> list[object]:
    """Each job in its own transaction, all started together. An exception is an answer: a
    DomainError is what the API answers with a 4xx, anything else would be a 5xx."""
    gate = asyncio.Event()

    async def one(job: Callable[[AsyncSession], Awaitable[object]]) -> object:
        await gate.wait()
        try:
            async with sessionmaker.begin() as session:
                return await job(session)
        except Exception as exc:  # the test tallies every kind of answer
            return exc

    tasks = [asyncio.create_task(one(job)) for job in jobs]
    await asyncio.sleep(0)
    gate.set()
    return list(await asyncio.gather(*tasks))


def moving(actor: Principal, meeting_id: uuid.UUID, target: datetime) -> Callable[[AsyncSession], Awaitable[object]]:
    async def job(session: AsyncSession) -> object:
        return await BookingService(session).move(actor, meeting_id, target)

    return job


async def booked_at(sessionmaker: async_sessionmaker[AsyncSession], agency_id: uuid.UUID, start: datetime) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(Meeting.agency_id == agency_id, Meeting.starts_at == start, Meeting.status == MeetingStatus.BOOKED)
        )
        return int(count or 0)


class TestEveryPartyMovesIntoTheOneFreeSlot:
    async def test_ten_bursts_each_one_winner_and_only_409s_besides(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        """20 meetings at one agency table, both parties of each move it into the one free slot at once,
        ten times. Half the firms have a meeting at that time at another table (their moves fail on
        the firm constraint, the trigger of the deadlock)."""
        agency, *elsewhere = await seed_principals(wide_pool, "agency", 1 + MEETINGS // 2)
        firms = await seed_principals(wide_pool, "firm", MEETINGS)
        fair = await seed_fair(wide_pool, participants=[agency, *elsewhere, *firms], days=fair_days("09:00", "19:30"))
        slots = starts(fair)
        assert len(slots) == MEETINGS + 1
        assert agency.organization_id
        target = slots[-1]
        meetings: list[tuple[Principal, uuid.UUID, datetime]] = []
        async with wide_pool.begin() as session:
            service = BookingService(session)
            for i, (firm, slot) in enumerate(zip(firms, slots, strict=False)):
                meetings.append((firm, (await service.book(firm, fair.id, agency.organization_id, slot)).id, slot))
                if i % 2:
                    other = elsewhere[i // 2].organization_id
                    assert other
                    await service.book(firm, fair.id, other, target)
        for burst in range(BURSTS):
            jobs = [moving(party, meeting_id, target) for firm, meeting_id, _ in meetings for party in (agency, firm)]
            results = await run_all(wide_pool, jobs)
            crashed = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
            assert not crashed, (burst, f"{len(crashed)} of {len(results)}", repr(crashed[0])[:300])
            # Both parties of the winning meeting may answer 200: the second finds it there already.
            winners = {r.id for r in results if isinstance(r, Meeting)}
            assert len(winners) == 1, (burst, [type(r).__name__ for r in results])
            refused = [r for r in results if not isinstance(r, Meeting)]
            assert all(isinstance(r, SlotTaken) for r in refused), (burst, refused[:3])
            assert await booked_at(wide_pool, agency.organization_id, target) == 1
            # Put the winner back, so the next burst races for the same slot again.
            (winner,) = winners
            firm, _, home = next(m for m in meetings if m[1] == winner)
            async with wide_pool.begin() as session:
                await BookingService(session).move(firm, winner, home)


class TestBookingsAndMovesIntoOneSlot:
    async def test_ten_bursts_of_bookings_and_a_move_give_one_winner_and_only_409s(
        self, wide_pool: async_sessionmaker[AsyncSession]
    ) -> None:
        """Bookings share the agency's row, so they do not take turns with a move: the savepoint
        retry is what keeps a lost deadlock from answering 500 (for the move and the bookings)."""
        agency, *elsewhere = await seed_principals(wide_pool, "agency", 1 + MEETINGS // 2)
        firms = await seed_principals(wide_pool, "firm", MEETINGS)
        mover_firm, *bookers = firms
        fair = await seed_fair(wide_pool, participants=[agency, *elsewhere, *firms], days=fair_days("09:00", "19:30"))
        slots = starts(fair)
        assert agency.organization_id
        target = slots[-1]
        async with wide_pool.begin() as session:
            service = BookingService(session)
            mover = await service.book(mover_firm, fair.id, agency.organization_id, slots[0])
            for i, firm in enumerate(bookers):
                if i % 2:  # busy at that time at another table: refused by the firm constraint
                    other = elsewhere[i // 2].organization_id
                    assert other
                    await service.book(firm, fair.id, other, target)
        for burst in range(BURSTS):
            jobs = [moving(party, mover.id, target) for party in (agency, mover_firm)]
            jobs += [booking(firm, fair.id, agency.organization_id, target) for firm in bookers]
            results = await run_all(wide_pool, jobs)
            crashed = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
            assert not crashed, (burst, f"{len(crashed)} of {len(results)}", repr(crashed[0])[:300])
            winners = {r.id for r in results if isinstance(r, Meeting)}
            assert len(winners) == 1, (burst, [type(r).__name__ for r in results])
            assert all(isinstance(r, SlotTaken) for r in results if not isinstance(r, Meeting)), burst
            assert await booked_at(wide_pool, agency.organization_id, target) == 1
            (winner,) = winners
            async with wide_pool.begin() as session:  # free the slot for the next burst
                if winner == mover.id:
                    await BookingService(session).move(mover_firm, mover.id, slots[0])
                else:
                    await BookingService(session).cancel(agency, winner)


def booking(
    actor: Principal, fair_id: uuid.UUID, agency_id: uuid.UUID, start: datetime
) -> Callable[[AsyncSession], Awaitable[object]]:
    async def job(session: AsyncSession) -> object:
        return await BookingService(session).book(actor, fair_id, agency_id, start)

    return job


class TestALostDeadlockIsRetried:
    async def test_the_move_that_loses_a_deadlock_tries_again_and_answers_slot_taken(
        self, wide_pool: async_sessionmaker[AsyncSession], database_url: str
    ) -> None:
        """Staged with two writers that skip the slot lock (as a writer from elsewhere would): one
        holds the slot, the move and the other wait for it; it rolls back, and the move and the
        other now wait for each other. The move's deadlock timer runs out first (the other's is
        set to 10 s), so the move is the one PostgreSQL kills: it retries, waits for the other,
        and answers SlotTaken when that one commits."""
        (agency,) = await seed_principals(wide_pool, "agency", 1)
        mover, holder, other = await seed_principals(wide_pool, "firm", 3)
        fair = await seed_fair(wide_pool, participants=[agency, mover, holder, other])
        slots = starts(fair)
        target = slots[1]
        assert agency.organization_id
        async with wide_pool.begin() as session:
            meeting = await BookingService(session).book(mover, fair.id, agency.organization_id, slots[0])
        insert = (
            "INSERT INTO meetings (id, fair_id, agency_id, firm_id, starts_at, ends_at) "
            "VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz + interval '30 minutes')"
        )
        holding, racing = await connect_raw(database_url), await connect_raw(database_url)
        try:
            await racing.execute("SET deadlock_timeout = '10s'")
            await holding.execute("BEGIN")
            await holding.execute(insert, uuid.uuid4(), fair.id, agency.organization_id, holder.organization_id, target)
            move = asyncio.create_task(run_all(wide_pool, [moving(mover, meeting.id, target)]))
            await _until_waiting(holding, 1)
            await racing.execute("BEGIN")
            race = asyncio.create_task(
                racing.execute(insert, uuid.uuid4(), fair.id, agency.organization_id, other.organization_id, target)
            )
            await _until_waiting(holding, 2)
            await holding.execute("ROLLBACK")  # both wake, see each other's entry, and wait for each other
            await asyncio.wait_for(race, 15)  # the move lost the deadlock and let the other through
            await racing.execute("COMMIT")
            [answer] = await asyncio.wait_for(move, 15)
        finally:
            await holding.close()
            await racing.close()
        assert isinstance(answer, SlotTaken), answer
        assert await booked_at(wide_pool, agency.organization_id, target) == 1


async def _until_waiting(conn: asyncpg.Connection, count: int) -> None:
    """Until `count` other sessions wait for a transaction to end (a lock on a transaction id)."""
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'transactionid'"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} waiting sessions never showed up")
