"""Outcomes: each side's report is kept; a disagreement is shown as disputed until staff settle it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.db.engine import make_engine
from service.db.migrate import downgrade, upgrade
from service.fairs.models import MeetingEvent
from service.fairs.slots import SEOUL
from tests.factories import business_number
from tests.integration.fairs.test_fairs_api import World, book, world
from tests.integration.fairs.test_pages import sign_in

Client = AsyncTestClient[Litestar]


async def finished_meeting(
    client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[World, str]:
    """A meeting booked at a fair held two days ago (its booking window still open): it is over."""
    day = (datetime.now(SEOUL) - timedelta(days=2)).date().isoformat()
    w = await world(client, sessionmaker, settings, days=[{"date": day, "start": "10:00", "end": "12:00"}])
    response = await book(client, w, w.firm, f"{day}T10:00:00+09:00")
    assert response.status_code == 201, response.text
    return w, str(response.json()["id"])


async def report(client: Client, meeting_id: str, headers: dict[str, str], outcome: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/meetings/{meeting_id}/outcome", json={"outcome": outcome}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestConflictingReports:
    async def test_firm_no_show_then_agency_held_keeps_both_and_is_disputed(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w, meeting_id = await finished_meeting(client, sessionmaker, settings)
        first = await report(client, meeting_id, w.firm.headers, "no_show")
        assert (first["status"], first["firm_outcome"], first["agency_outcome"]) == ("no_show", "no_show", None)
        assert first["outcome_disputed"] is False
        second = await report(client, meeting_id, w.agency.headers, "held")
        assert second["status"] == "no_show"  # no silent flip: the first report stands until staff settle
        assert (second["agency_outcome"], second["firm_outcome"]) == ("held", "no_show")
        assert second["outcome_disputed"] is True
        for viewer in (w.staff, w.agency, w.firm):
            shown = (await client.get(f"/api/v1/meetings/{meeting_id}", headers=viewer.headers)).json()
            assert shown["outcome_disputed"] is True and shown["staff_outcome"] is None
        # Staff settle it: their report decides the status and the dispute is over.
        settled = await report(client, meeting_id, w.staff.headers, "held")
        assert (settled["status"], settled["staff_outcome"], settled["outcome_disputed"]) == ("held", "held", False)
        assert (settled["agency_outcome"], settled["firm_outcome"]) == ("held", "no_show")
        async with sessionmaker() as session:
            history = list(
                await session.scalars(
                    select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id).order_by(MeetingEvent.at)
                )
            )
        reports = [(e.kind, e.data["side"], e.data["disputed"]) for e in history if e.kind in ("held", "no_show")]
        assert reports == [("no_show", "firm", False), ("held", "agency", True), ("held", "staff", False)]

    async def test_agreeing_reports_and_a_side_correcting_itself_are_not_disputes(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w, meeting_id = await finished_meeting(client, sessionmaker, settings)
        assert (await report(client, meeting_id, w.agency.headers, "no_show"))["status"] == "no_show"
        corrected = await report(client, meeting_id, w.agency.headers, "held")  # only one side so far
        assert (corrected["status"], corrected["outcome_disputed"]) == ("held", False)
        agreed = await report(client, meeting_id, w.firm.headers, "held")
        assert (agreed["status"], agreed["outcome_disputed"]) == ("held", False)


class TestStaffGrid:
    async def test_the_staff_grid_marks_a_disputed_meeting_with_both_reports(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w, meeting_id = await finished_meeting(client, sessionmaker, settings)
        await report(client, meeting_id, w.firm.headers, "no_show")
        await sign_in(client, w.staff)
        grid = f"/fairs/{w.fair_id}/grid"
        assert "결과 이견" not in (await client.get(grid)).text
        await report(client, meeting_id, w.agency.headers, "held")
        page = (await client.get(grid)).text
        assert "결과 이견" in page
        assert "진행됨" in page and "불참" in page  # the agency's and the firm's reports


class TestMigration:
    def test_reports_made_before_the_migration_are_recovered_from_the_history(self, database_url: str) -> None:
        """Migration 8003 fills each side's report from the held/no_show events of the history."""
        downgrade(database_url, "3001")
        ids = {k: uuid.uuid4() for k in ("agency", "firm", "agency_user", "firm_user", "staff", "meeting", "other")}
        asyncio.run(self._seed(database_url, ids))
        upgrade(database_url)
        assert asyncio.run(self._reports(database_url, ids["meeting"])) == ("held", "no_show", "held")
        assert asyncio.run(self._reports(database_url, ids["other"])) == (None, None, None)

    async def _seed(self, url: str, ids: dict[str, uuid.UUID]) -> None:
        engine = make_engine(url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO organizations (id, kind, name, status, district, agency_type) "
                    "VALUES (:agency, 'agency', '기관', 'verified', 'mapo', 'district_office')"
                ),
                ids,
            )
            await conn.execute(
                text(
                    "INSERT INTO organizations (id, kind, name, status, district, business_number) "
                    "VALUES (:firm, 'firm', '기업', 'verified', 'mapo', :bn)"
                ),
                {**ids, "bn": business_number()},
            )
            for user, role, org in (
                ("agency_user", "agency", "agency"),
                ("firm_user", "firm", "firm"),
                ("staff", "staff", None),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO users (id, email, password_hash, name, role, organization_id) "
                        "VALUES (:id, :email, 'x', 'x', :role, :org)"
                    ),
                    {"id": ids[user], "email": f"{user}@example.kr", "role": role, "org": ids[org] if org else None},
                )
            await conn.execute(
                text(
                    "INSERT INTO meetings (id, agency_id, firm_id, starts_at, ends_at, status) "
                    "VALUES (:meeting, :agency, :firm, now() - interval '2 hours', now() - interval '1 hour', 'held')"
                ),
                ids,
            )
            for kind, actor, by_staff, minutes in (
                ("booked", "firm_user", False, 90),
                ("no_show", "agency_user", False, 50),
                ("held", "agency_user", False, 40),  # the agency corrected itself: its last report counts
                ("no_show", "firm_user", False, 30),
                ("held", "staff", True, 20),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO meeting_events (id, meeting_id, kind, actor_id, by_staff, data, at) "
                        "VALUES (:id, :meeting, :kind, :actor, :by_staff, '{}', now() - make_interval(mins => :m))"
                    ),
                    {"id": uuid.uuid4(), **ids, "kind": kind, "actor": ids[actor], "by_staff": by_staff, "m": minutes},
                )
            await conn.execute(  # a meeting nobody reported on
                text(
                    "INSERT INTO meetings (id, agency_id, firm_id, starts_at, ends_at, status) "
                    "VALUES (:other, :agency, :firm, now() + interval '1 day', now() + interval '25 hours', 'booked')"
                ),
                ids,
            )
        await engine.dispose()

    async def _reports(self, url: str, meeting_id: uuid.UUID) -> tuple[str | None, ...]:
        engine = make_engine(url, pool_size=1)
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT agency_outcome, firm_outcome, staff_outcome FROM meetings WHERE id = :id"),
                    {"id": meeting_id},
                )
            ).one()
        await engine.dispose()
        return tuple(row)
