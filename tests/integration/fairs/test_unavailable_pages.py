"""The participant's "slots we cannot attend" page and the agenda's move control, through the pages:
marking and unmarking, the refusal of a slot with a meeting, who may see and mark, staff on behalf
(audited), booking refused in a marked slot, and a move control listing only slots both parties
have free (computed in one query)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.fairs.booking import BookingService
from service.fairs.models import Fair, Meeting, Unavailability
from service.fairs.slots import seoul
from service.identity.models import AuditEvent
from tests.factories import Account, verified_agency, verified_firm
from tests.integration.fairs.test_fairs_api import SLOT0, SLOT1, SLOT2, World, book, fair_payload, world
from tests.integration.fairs.test_pages import csrf_from, sign_in

Client = AsyncTestClient[Litestar]

SLOT3 = "2030-10-20T11:30:00+09:00"
SLOT4 = "2030-10-20T13:00:00+09:00"
SLOT5 = "2030-10-20T13:30:00+09:00"
ALL = [SLOT0, SLOT1, SLOT2, SLOT3, SLOT4, SLOT5]


def checked(html: str) -> list[str]:
    """The values of the ticked boxes, in page order."""
    return re.findall(r'name="start" value="([^"]+)" checked', html)


def boxes(html: str) -> list[str]:
    return re.findall(r'type="checkbox" name="start" value="([^"]+)"', html)


def move_options(html: str, meeting_id: str) -> list[str]:
    match = re.search(rf'<select id="mv-{meeting_id}" name="start">(.*?)</select>', html, re.S)
    assert match, f"no move control for {meeting_id}"
    return [
        seoul(datetime.fromisoformat(v)).isoformat() for v in re.findall(r'<option value="([^"]+)"', match.group(1))
    ]


async def mark(client: Client, w: World, csrf: str, *starts: str, **extra: str) -> Any:
    return await client.post(
        f"/fairs/{w.fair_id}/unavailable",
        data={"_csrf_token": csrf, "start": list(starts), **extra},
        follow_redirects=False,
    )


async def stored(sessionmaker: async_sessionmaker[AsyncSession], fair_id: str, org: str | None) -> set[str]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Unavailability.starts_at).where(
                Unavailability.fair_id == uuid.UUID(fair_id), Unavailability.organization_id == uuid.UUID(str(org))
            )
        )
        return {seoul(s).isoformat() for s in rows}


class TestMarkingSlots:
    async def test_the_agency_marks_and_unmarks_and_a_firm_cannot_book_a_marked_slot(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        csrf = await sign_in(client, w.agency)
        agenda = await client.get(f"/fairs/{w.fair_id}/agenda")
        assert f'href="/fairs/{w.fair_id}/unavailable"' in agenda.text

        page = await client.get(f"/fairs/{w.fair_id}/unavailable")
        assert page.status_code == 200
        assert boxes(page.text) == ALL and checked(page.text) == []
        assert page.text.count("<fieldset") == 1 and "<legend>" in page.text  # one fair day
        assert "10:30–11:00" in page.text  # labels in Seoul time

        saved = await mark(client, w, csrf, SLOT1, SLOT4)
        assert saved.status_code == 303 and saved.headers["location"].endswith("/unavailable?done=saved")
        page = await client.get(saved.headers["location"])
        assert checked(page.text) == [SLOT1, SLOT4] and 'role="status"' in page.text
        assert await stored(sessionmaker, w.fair_id, w.agency.organization_id) == {SLOT1, SLOT4}

        # the firm's booking page links to its own page, and the agency's marked slot cannot be booked
        csrf = await sign_in(client, w.firm)
        booking = await client.get(f"/fairs/{w.fair_id}/book")
        assert f'href="/fairs/{w.fair_id}/unavailable"' in booking.text
        refused = await client.post(
            f"/fairs/{w.fair_id}/book",
            data={"agency_id": w.agency.organization_id, "start": SLOT1, "_csrf_token": csrf},
            headers={"hx-request": "true", "x-csrftoken": csrf},
        )
        assert refused.status_code == 200 and "기관 또는 기업이 참석할 수 없다고 표시한 시간입니다." in refused.text
        async with sessionmaker() as session:
            assert (await session.scalars(select(Meeting))).first() is None
        # the firm's own page shows its own (empty) marks, not the agency's
        own = await client.get(f"/fairs/{w.fair_id}/unavailable")
        assert own.status_code == 200 and checked(own.text) == []

        # the agency unmarks 10:30; the firm books it
        csrf = await sign_in(client, w.agency)
        assert (await mark(client, w, csrf, SLOT4)).status_code == 303
        assert await stored(sessionmaker, w.fair_id, w.agency.organization_id) == {SLOT4}
        assert (await book(client, w, w.firm, SLOT1)).status_code == 201
        # and clears everything with no box ticked
        assert (await mark(client, w, csrf)).status_code == 303
        assert await stored(sessionmaker, w.fair_id, w.agency.organization_id) == set()

    async def test_a_slot_with_a_meeting_is_refused_naming_it_and_nothing_is_saved(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        assert (await book(client, w, w.firm, SLOT1)).status_code == 201
        csrf = await sign_in(client, w.agency)
        assert (await mark(client, w, csrf, SLOT4)).status_code == 303

        page = await client.get(f"/fairs/{w.fair_id}/unavailable")
        assert "상담 예약됨" in page.text  # the slot with the meeting says so
        refused = await mark(client, w, csrf, SLOT0, SLOT1)
        assert refused.status_code == 409
        assert "10. 20.(일) 10:30에 상담이 있습니다" in refused.text and 'role="alert"' in refused.text
        assert checked(refused.text) == [SLOT0, SLOT1]  # what was ticked, to fix
        assert await stored(sessionmaker, w.fair_id, w.agency.organization_id) == {SLOT4}  # unchanged

        # the firm side of the meeting is refused too, and the API answers with the same rule
        response = await client.put(
            f"/api/v1/fairs/{w.fair_id}/unavailable", json={"starts": [SLOT1]}, headers=w.firm.headers
        )
        assert response.status_code == 409
        assert response.json()["rule"] == "meeting" and response.json()["starts"] == [SLOT1]
        assert "2030-10-20 10:30" in response.json()["detail"]

        # a value that is no slot of the fair is a 422 on the page, not a 500
        bad = await mark(client, w, csrf, "2030-10-20T10:10:00+09:00")
        assert bad.status_code == 422 and 'role="alert"' in bad.text
        garbage = await mark(client, w, csrf, "not-a-time")
        assert garbage.status_code == 422

    async def test_staff_mark_for_a_participant_and_are_audited(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        csrf = await sign_in(client, w.staff)
        setup = await client.get(f"/fairs/{w.fair_id}")
        assert f"/fairs/{w.fair_id}/unavailable?organization_id={w.firm.organization_id}" in setup.text
        chooser = await client.get(f"/fairs/{w.fair_id}/unavailable")
        assert chooser.status_code == 200 and boxes(chooser.text) == []
        assert w.firm.organization_id in chooser.text and w.agency.organization_id in chooser.text

        page = await client.get(f"/fairs/{w.fair_id}/unavailable", params={"organization_id": w.firm.organization_id})
        assert page.status_code == 200 and boxes(page.text) == ALL
        saved = await mark(client, w, csrf, SLOT2, organization_id=str(w.firm.organization_id))
        assert saved.status_code == 303
        assert saved.headers["location"].endswith(f"done=saved&organization_id={w.firm.organization_id}")
        assert await stored(sessionmaker, w.fair_id, w.firm.organization_id) == {SLOT2}
        async with sessionmaker() as session:
            audit = (
                await session.scalars(select(AuditEvent).where(AuditEvent.action == "fair.unavailable_on_behalf"))
            ).one()
        assert str(audit.actor_id) == w.staff.user_id
        assert audit.changes["organization_id"] == w.firm.organization_id
        assert audit.changes["starts"]["new"] == ["2030-10-20T02:00:00+00:00"]

        # an organization that is not in the fair: 404
        outsider = await verified_agency(client, w.staff)
        await sign_in(client, w.staff)
        missing = await client.get(
            f"/fairs/{w.fair_id}/unavailable", params={"organization_id": str(outsider.organization_id)}
        )
        assert missing.status_code == 404


class TestWhoMayMark:
    async def test_outsiders_get_404_and_anonymous_signs_in(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        # a firm of another fair, and an agency in no fair
        other_fair = await client.post("/api/v1/fairs", json=fair_payload(name="다른 상담회"), headers=w.staff.headers)
        elsewhere = await verified_firm(client, w.staff)
        joined = await client.post(
            f"/api/v1/fairs/{other_fair.json()['id']}/participants",
            json={"organization_id": elsewhere.organization_id},
            headers=elsewhere.headers,
        )
        assert joined.status_code == 201
        stranger = await verified_agency(client, w.staff)
        outsiders: list[Account] = [elsewhere, stranger]
        for outsider in outsiders:
            csrf = await sign_in(client, outsider)
            assert (await client.get(f"/fairs/{w.fair_id}/unavailable")).status_code == 404
            # naming a participant does not help a non-staff caller: it always speaks for itself
            denied = await mark(client, w, csrf, SLOT0, organization_id=str(w.agency.organization_id))
            assert denied.status_code == 404
        assert await stored(sessionmaker, w.fair_id, w.agency.organization_id) == set()
        assert (await client.get(f"/fairs/{uuid.uuid4()}/unavailable")).status_code == 404

        client.cookies.clear()
        anonymous = await client.get(f"/fairs/{w.fair_id}/unavailable", follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        login_csrf = csrf_from((await client.get("/login")).text)
        posted = await mark(client, w, login_csrf, SLOT0)
        assert posted.status_code == 303 and "/login" in posted.headers["location"]


class TestMoveControl:
    async def test_it_lists_only_slots_both_parties_have_free_and_a_race_is_a_clean_409(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        second = await verified_agency(client, w.staff)
        added = await client.post(
            f"/api/v1/fairs/{w.fair_id}/participants",
            json={"organization_ids": [second.organization_id]},
            headers=w.staff.headers,
        )
        assert added.status_code == 201
        ours = await book(client, w, w.firm, SLOT0)
        assert ours.status_code == 201
        theirs = await book(client, w, w.other_firm, SLOT1)  # the agency is busy at 10:30
        assert theirs.status_code == 201
        busy = await client.post(  # the firm is busy at 13:30 with the second agency
            f"/api/v1/fairs/{w.fair_id}/meetings",
            json={"agency_id": second.organization_id, "start": SLOT5},
            headers=w.firm.headers,
        )
        assert busy.status_code == 201
        csrf = await sign_in(client, w.firm)
        assert (await mark(client, w, csrf, SLOT2)).status_code == 303  # the firm cannot at 11:00
        csrf = await sign_in(client, w.agency)
        assert (await mark(client, w, csrf, SLOT4)).status_code == 303  # the agency cannot at 13:00

        csrf = await sign_in(client, w.firm)
        agenda = await client.get(f"/fairs/{w.fair_id}/agenda")
        assert move_options(agenda.text, ours.json()["id"]) == [SLOT0, SLOT3]
        # the agency's meeting with the other firm: the firm's marks do not matter there
        await sign_in(client, w.agency)
        agenda = await client.get(f"/fairs/{w.fair_id}/agenda")
        assert move_options(agenda.text, ours.json()["id"]) == [SLOT0, SLOT3]
        assert move_options(agenda.text, theirs.json()["id"]) == [SLOT1, SLOT2, SLOT3, SLOT5]

        # between page load and click the other firm takes 11:30: the move is a clean 409 page
        assert (await book(client, w, w.other_firm, SLOT3)).status_code == 201
        csrf = await sign_in(client, w.firm)
        lost = await client.post(
            f"/meetings/{ours.json()['id']}/move", data={"_csrf_token": csrf, "start": SLOT3}, follow_redirects=False
        )
        assert lost.status_code == 409 and "text/html" in lost.headers["content-type"]
        assert "방금 다른 기업이 이 시간을 예약했습니다" in lost.text
        agenda = await client.get(f"/fairs/{w.fair_id}/agenda")
        assert move_options(agenda.text, ours.json()["id"]) == [SLOT0]

    async def test_move_targets_take_one_query_for_all_meetings(
        self, client: Client, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        w = await world(client, sessionmaker, settings)
        for firm, start in ((w.firm, SLOT0), (w.other_firm, SLOT1)):
            assert (await book(client, w, firm, start)).status_code == 201
        async with sessionmaker() as session:
            fair = await session.get(Fair, uuid.UUID(w.fair_id))
            assert fair is not None
            meetings = list(await session.scalars(select(Meeting)))
            statements: list[str] = []
            sync_engine = session.bind.sync_engine  # type: ignore[union-attr]

            def count(*args: Any) -> None:
                statements.append(str(args[2]))

            event.listen(sync_engine, "before_cursor_execute", count)
            try:
                targets = await BookingService(session).move_targets(fair, meetings)
            finally:
                event.remove(sync_engine, "before_cursor_execute", count)
        assert len(statements) == 1, statements
        assert len(targets) == 2 and all(targets.values())
