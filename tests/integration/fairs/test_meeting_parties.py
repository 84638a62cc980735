"""Who meets where, asked of the database in one statement: both organizations, the fair, the agency's
room at the fair and the active users of both sides (agency side first, by email within a side)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.accounts.models import User
from service.fairs.calendar import meeting_parties, parties_of_meetings
from service.fairs.models import Meeting
from tests.factories_notify import ROOM, meeting, organization


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_one_statement_gives_the_parties_of_a_fair_meeting(engine, sessionmaker):
    agency_users = [
        ("z-buyer@eunpyeong.go.kr", "ko"),
        ("a-buyer@eunpyeong.go.kr", "en"),
        ("gone@eunpyeong.go.kr", "ko"),
    ]
    firm_users = [("b-ceo@mapo.coop", "ko"), ("0-staff@mapo.coop", "ko")]
    async with sessionmaker.begin() as session:
        m = await meeting(session, agency_users=agency_users, firm_users=firm_users)
        await session.execute(update(User).where(User.email == "gone@eunpyeong.go.kr").values(is_active=False))
        meeting_id = m.id
    async with sessionmaker() as session:
        m = await session.get(Meeting, meeting_id)
        assert m is not None
        with statements(engine) as seen:
            parties = await meeting_parties(session, m)
        assert len(seen) == 1
        assert parties.fair is not None and parties.fair.id == m.fair_id
        assert (parties.agency.id, parties.firm.id) == (m.agency_id, m.firm_id)
        assert parties.room_url == ROOM  # the agency's room at the fair
        assert [(u.email, own.id, other.id) for u, own, other in parties.people] == [
            ("a-buyer@eunpyeong.go.kr", m.agency_id, m.firm_id),
            ("z-buyer@eunpyeong.go.kr", m.agency_id, m.firm_id),
            ("0-staff@mapo.coop", m.firm_id, m.agency_id),
            ("b-ceo@mapo.coop", m.firm_id, m.agency_id),
        ]


async def test_a_meeting_without_a_fair_or_users_keeps_its_own_room(engine, sessionmaker):
    async with sessionmaker.begin() as session:
        agency = await organization(session, "agency", "은평구청", [])
        firm = await organization(session, "firm", "마포방역협동조합", [])
        fair_meeting = await meeting(session)
        m = Meeting(
            agency_id=agency.id,
            firm_id=firm.id,
            starts_at=fair_meeting.starts_at,
            ends_at=fair_meeting.ends_at,
            room_url="https://meet.example.kr/own",
        )
        session.add(m)
        await session.flush()
        with statements(engine) as seen:
            parties = await meeting_parties(session, m)
        assert len(seen) == 1
        assert parties.fair is None and parties.people == ()
        assert (parties.agency.name, parties.firm.name) == ("은평구청", "마포방역협동조합")
        assert parties.room_url == "https://meet.example.kr/own"

        fair_meeting.room_url = "https://meet.example.kr/table-3"  # the meeting's own room wins over the fair's
        parties = await meeting_parties(session, fair_meeting)
        assert parties.room_url == "https://meet.example.kr/table-3"


async def test_one_statement_gives_the_parties_of_several_meetings_as_one_at_a_time(engine, sessionmaker):
    async with sessionmaker.begin() as session:
        first = await meeting(session, agency_users=[("b@gu.go.kr", "ko"), ("a@gu.go.kr", "en")])
        second = await meeting(session, firm_users=[("z@firm.kr", "ko"), ("y@firm.kr", "ko")])
        second.room_url = "https://meet.example.kr/own"
        nobody = await meeting(session, agency_users=[], firm_users=[])
        await session.execute(update(User).where(User.organization_id == nobody.agency_id).values(is_active=False))
        await session.execute(update(User).where(User.organization_id == nobody.firm_id).values(is_active=False))
        ids = [first.id, second.id, nobody.id]
    async with sessionmaker() as session:
        meetings = [m for m in [await session.get(Meeting, i) for i in ids] if m is not None]
        with statements(engine) as seen:
            many = await parties_of_meetings(session, meetings)
        assert len(seen) == 1
        assert list(many) == ids
        for m in meetings:
            one = await meeting_parties(session, m)
            assert many[m.id] == one
        assert many[second.id].room_url == "https://meet.example.kr/own"
        assert many[nobody.id].people == ()
        assert [u.email for u, _, _ in many[first.id].people][:2] == ["a@gu.go.kr", "b@gu.go.kr"]
        assert await parties_of_meetings(session, []) == {}
