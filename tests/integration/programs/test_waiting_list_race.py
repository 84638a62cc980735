"""Under real concurrency (separate connections): seats never exceed the capacity, and each freed
seat moves exactly one person up the waiting list, the first in line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.db.engine import make_engine, make_sessionmaker
from service.identity.principal import Principal
from service.lib import clock
from service.programs.models import RegistrationStatus, SessionRegistration
from service.programs.schemas import SessionIn
from service.programs.sessions import SessionService
from tests.factories_fairs import seed_principals


@pytest.fixture
async def pool(database_url: str, settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url, pool_size=12)
    yield make_sessionmaker(engine, settings)
    await engine.dispose()


async def together(
    sessionmaker: async_sessionmaker[AsyncSession], jobs: list[Callable[[AsyncSession], Awaitable[object]]]
) -> list[object]:
    gate = asyncio.Event()

    async def one(job: Callable[[AsyncSession], Awaitable[object]]) -> object:
        await gate.wait()
        async with sessionmaker.begin() as session:
            return await job(session)

    tasks = [asyncio.create_task(one(job)) for job in jobs]
    await asyncio.sleep(0.05)
    gate.set()
    return list(await asyncio.gather(*tasks))


async def new_session(sessionmaker: async_sessionmaker[AsyncSession], staff: Principal, capacity: int) -> object:
    start = clock.now() + timedelta(days=2)
    data = SessionIn(title="교육", kind="training", starts_at=start, ends_at=start + timedelta(hours=1),
                     capacity=capacity, audience="firms", online_url="https://meet.example.kr/a")  # fmt: skip
    async with sessionmaker.begin() as session:
        return (await SessionService(session).create(staff, data)).id


async def statuses(sessionmaker: async_sessionmaker[AsyncSession], session_id: object) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(SessionRegistration.user_id, SessionRegistration.status)
            .where(SessionRegistration.session_id == session_id)
            .order_by(SessionRegistration.created_at)
        )
        return [(str(u), str(s)) for u, s in rows.tuples()]


async def test_concurrent_registrations_fill_exactly_the_capacity(pool: async_sessionmaker[AsyncSession]) -> None:
    (staff,) = await seed_principals(pool, "staff", 1)
    firms = await seed_principals(pool, "firm", 8)
    session_id = await new_session(pool, staff, capacity=3)
    await together(pool, [lambda s, f=f: SessionService(s).register(f, session_id) for f in firms])  # type: ignore[misc]
    counted = [s for _, s in await statuses(pool, session_id)]
    assert counted.count("registered") == 3 and counted.count("waitlisted") == 5


async def test_concurrent_cancellations_move_the_list_up_exactly_once_each(
    pool: async_sessionmaker[AsyncSession],
) -> None:
    (staff,) = await seed_principals(pool, "staff", 1)
    firms = await seed_principals(pool, "firm", 5)
    session_id = await new_session(pool, staff, capacity=2)
    registrations = []
    for firm in firms:  # in order: two seats, then three waiting
        clock.set_now(clock.now() + timedelta(seconds=1))
        async with pool.begin() as session:
            registrations += await SessionService(session).register(firm, session_id)
    clock.set_now(None)
    seated = [r for r in registrations if r.status == RegistrationStatus.REGISTERED]
    assert len(seated) == 2
    # both seated firms cancel, each twice (a double click), all at once
    jobs = [
        lambda s, f=firm, r=reg: SessionService(s).cancel_registration(f, r.id)
        for firm, reg in zip(firms[:2], seated, strict=True)
        for _ in range(2)
    ]
    await together(pool, jobs)  # type: ignore[arg-type]
    final = dict(await statuses(pool, session_id))
    expected = ["cancelled", "cancelled", "registered", "registered", "waitlisted"]
    assert [final[str(f.user_id)] for f in firms] == expected
