"""The database goes away between a booking's last statement and its COMMIT.

The request's transaction is committed when the response starts (the autocommit hook), after
the handler has returned the meeting. If that COMMIT fails, the client must not be told 201:
it gets 503 problem+json, and nothing of the booking is left in the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, select

from service.app import create_app
from service.db.engine import sqlalchemy_url
from service.fairs.models import Meeting, MeetingEvent
from service.notify.models import MailNotice, OutboxMessage
from tests.factories_fairs import seed_fair, seed_principals, starts
from tests.factories_ops import PgProxy, issue_tokens


@pytest.mark.slow
async def test_a_commit_cut_short_answers_503_and_leaves_nothing(proxy: PgProxy, database_url, settings, sessionmaker):
    (agency,) = await seed_principals(sessionmaker, "agency", 1)
    (firm,) = await seed_principals(sessionmaker, "firm", 1)
    fair = await seed_fair(sessionmaker, participants=[agency, firm])
    (token,) = await issue_tokens(database_url, [firm.user_id])
    database = sqlalchemy_url(database_url).database
    assert database
    app = create_app(settings, proxy.url(database))
    engine = app.state.engine.sync_engine

    def mark_booking(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO meetings" in statement:
            conn.info["booked"] = True

    def cut_before_commit(conn: Any) -> None:
        if conn.info.pop("booked", False):
            proxy.cut()  # the COMMIT never reaches the server

    event.listen(engine, "before_cursor_execute", mark_booking)
    event.listen(engine, "commit", cut_before_commit)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        response = await client.post(
            f"/api/v1/fairs/{fair.id}/meetings",
            json={"agency_id": str(agency.organization_id), "start": starts(fair)[0].isoformat()},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) > 0
        proxy.restore()

    async with sessionmaker() as session:
        for model in (Meeting, MeetingEvent, MailNotice, OutboxMessage):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
