"""The auto-scheduler's mails over a real SMTP server: the provisional agenda says it is provisional
and how to object, without invitations; the final agenda confirms each meeting once, with its
invitation, saying whether it changed since the provisional agenda (old → new time)."""

from __future__ import annotations

from email.message import EmailMessage

from litestar.testing import AsyncTestClient

from service.app import create_app
from service.notify.dispatcher import drain
from tests.factories import create_staff, verified_agency, verified_firm
from tests.integration.fairs.test_requests import request_fair


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _has_invite(message: EmailMessage) -> bool:
    return any(part.get_content_type() == "text/calendar" for part in message.walk())


async def _fair_with_two_accepted_requests(client, sessionmaker, smtp_settings):
    """A request fair where one firm's requests to two agencies were both accepted."""
    staff = await create_staff(client, sessionmaker, smtp_settings)
    agency = await verified_agency(client, staff)
    other_agency = await verified_agency(client, staff)
    firm = await verified_firm(client, staff)
    fair = (await client.post("/api/v1/fairs", json=request_fair(), headers=staff.headers)).json()
    orgs = [agency.organization_id, other_agency.organization_id, firm.organization_id]
    participants = f"/api/v1/fairs/{fair['id']}/participants"
    await client.post(participants, json={"organization_ids": orgs}, headers=staff.headers)
    for who in (agency, other_agency):
        sent = await client.post(
            f"/api/v1/fairs/{fair['id']}/requests", json={"agency_id": who.organization_id}, headers=firm.headers
        )
        accepted = await client.post(f"/api/v1/requests/{sent.json()['id']}/accept", headers=who.headers)
        assert accepted.status_code == 200, accepted.text
    return staff, agency, other_agency, firm, fair


def _assert_provisional(message: EmailMessage, fair_id: str) -> None:
    assert "임시 상담 일정" in message["Subject"] and "확정 아님" in message["Subject"]
    text = _text(message)
    assert "아직 확정된 일정이 아닙니다" in text
    assert "2030. 11. 2.(토)까지 지원센터에 알려 주세요" in text  # the day before the fair
    assert f"/fairs/{fair_id}/agenda" in text
    assert not _has_invite(message)


async def test_provisional_then_final_mails_say_what_they_are(database_url, sessionmaker, smtp, smtp_settings):
    app = create_app(smtp_settings, database_url)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        staff, agency, other_agency, firm, fair = await _fair_with_two_accepted_requests(
            client, sessionmaker, smtp_settings
        )
        await drain(sessionmaker, smtp_settings)
        smtp.inbox.clear()  # verification and request mails of the set-up

        scheduled = await client.post(f"/api/v1/fairs/{fair['id']}/schedule", headers=staff.headers)
        assert scheduled.json()["scheduled"] == 2
        await drain(sessionmaker, smtp_settings)
        provisional = smtp.inbox.messages
        assert len(provisional) == 3  # one per participant's user, no invitations yet
        for message in provisional:
            _assert_provisional(message, fair["id"])
        smtp.inbox.clear()

        # the firm moves one provisional meeting to the slot left free; no mail while provisional
        agenda = (await client.get("/api/v1/me/meetings", headers=firm.headers)).json()
        taken = {m["start"] for m in agenda}
        free = next(
            s
            for s in ("2030-11-03T10:00:00+09:00", "2030-11-03T10:20:00+09:00", "2030-11-03T10:40:00+09:00")
            if s not in taken
        )
        moving = next(m for m in agenda if m["agency_id"] == other_agency.organization_id)
        staying = next(m for m in agenda if m["agency_id"] == agency.organization_id)
        moved = await client.patch(f"/api/v1/meetings/{moving['id']}", json={"start": free}, headers=firm.headers)
        assert moved.status_code == 200, moved.text
        await drain(sessionmaker, smtp_settings)
        assert smtp.inbox.messages == []

        final = await client.post(f"/api/v1/fairs/{fair['id']}/agenda/final", headers=staff.headers)
        assert final.json() == {"finalized": 2}
        await drain(sessionmaker, smtp_settings)
        confirmed = smtp.inbox.messages
        assert len(confirmed) == 4, [m["Subject"] for m in confirmed]  # each meeting's two parties, once
        assert all(_has_invite(m) for m in confirmed)
        assert not any("임시" in m["Subject"] for m in confirmed)  # the provisional mail is not sent again
        unchanged = [m for m in confirmed if "변경 없음" in m["Subject"]]
        changed = [m for m in confirmed if "시간 변경" in m["Subject"]]
        assert len(unchanged) == 2 and len(changed) == 2
        for message in unchanged:
            assert "상담 일정이 확정되었습니다 (변경 없음)" in _text(message)
        old_time = moving["start"][11:16]
        new_time = free[11:16]
        for message in changed:
            text = _text(message)
            assert "임시 일정에서 시간이 바뀌었습니다" in text
            line = next(line for line in text.splitlines() if "→" in line)
            assert line.index(old_time) < line.index("→") < line.index(new_time), line
        assert staying["start"][11:16] in unchanged[0]["Subject"]
