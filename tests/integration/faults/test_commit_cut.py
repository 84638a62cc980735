"""The database goes away at the moment a booking commits.

A booking in the session's transaction (here: one sent with an Idempotency-Key) is committed
when the response starts, after the handler has returned the meeting. If that COMMIT fails, the
client must not be told 201: it gets 503 problem+json, and nothing of the booking is left.

A booking that is its request's only write is one statement, its own transaction: when its
answer is lost, the client gets 503 all the same, and the booking is there whole or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, select

from service.app import create_app
from service.db.engine import sqlalchemy_url
from service.fairs.models import Meeting, MeetingEvent
from service.lib.idempotency import IdempotencyKey
from service.notify.models import MailNotice, OutboxMessage
from tests.factories_fairs import seed_fair, seed_principals, starts
from tests.factories_ops import PgProxy, issue_tokens


async def booking_through(
    proxy: PgProxy, database_url: str, settings: Any, sessionmaker: Any
) -> tuple[Litestar, Callable[[Any, dict[str, str]], Awaitable[Any]]]:
    """An app reaching the database through `proxy`, and a firm's booking of the fair's first slot."""
    (agency,) = await seed_principals(sessionmaker, "agency", 1)
    (firm,) = await seed_principals(sessionmaker, "firm", 1)
    fair = await seed_fair(sessionmaker, participants=[agency, firm])
    (token,) = await issue_tokens(database_url, [firm.user_id])
    database = sqlalchemy_url(database_url).database
    assert database

    async def book(client: Any, headers: dict[str, str]) -> Any:
        return await client.post(
            f"/api/v1/fairs/{fair.id}/meetings",
            json={"agency_id": str(agency.organization_id), "start": starts(fair)[0].isoformat()},
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    return create_app(settings, proxy.url(database)), book


@pytest.mark.slow
async def test_a_commit_cut_short_answers_503_and_leaves_nothing(proxy: PgProxy, database_url, settings, sessionmaker):
    app, book = await booking_through(proxy, database_url, settings, sessionmaker)
    engine = app.state.engine.sync_engine

    def mark_booking(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "book_meeting" in statement:
            conn.info["booked"] = True

    def cut_before_commit(conn: Any) -> None:
        if conn.info.pop("booked", False):
            proxy.cut()  # the COMMIT never reaches the server

    event.listen(engine, "before_cursor_execute", mark_booking)
    event.listen(engine, "commit", cut_before_commit)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        response = await book(client, {"Idempotency-Key": "cut-short"})
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) > 0
        proxy.restore()

    async with sessionmaker() as session:
        for model in (Meeting, MeetingEvent, MailNotice, OutboxMessage, IdempotencyKey):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model.__name__


@pytest.mark.slow
async def test_a_booking_whose_answer_is_lost_answers_503_and_is_whole_or_absent(
    proxy: PgProxy, database_url, settings, sessionmaker
):
    app, book = await booking_through(proxy, database_url, settings, sessionmaker)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        proxy.cut_after(b"book_meeting(")  # the statement reaches the server, its answer never returns
        response = await book(client, {})
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        proxy.restore()

    async with sessionmaker() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(m)) for m in (Meeting, MeetingEvent, MailNotice)
        ]
    assert counts in ([0, 0, 0], [1, 1, 1]), counts
