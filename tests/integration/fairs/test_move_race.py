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

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.accounts.principal import Principal
from service.db.engine import make_engine, make_sessionmaker
from service.fairs.models import Meeting, MeetingStatus
from service.fairs.service import BookingService, SlotTaken
from service.lib.errors import DomainError
from tests.factories_fairs import fair_days, seed_fair, seed_principals, starts

MEETINGS = 20
BURSTS = 10


@pytest.fixture
async def wide_pool(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url, pool_size=25)  # up to 50 connections: every mover has its own
    yield make_sessionmaker(engine)
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
