"""Firms' responses to needs (관심 표명): the JSON API with its rules and who may read what, the mails to
the agency and back to the firm through the outbox, the pages of both sides, and contact requests for a
firm that has no user account (a staff task instead of a claimed invitation)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.lib.clock import now
from service.matching.models import Shortlist, StaffTask
from service.matching.tasks import StaffTaskService
from service.needs.models import NeedResponse
from service.needs.responses import NeedResponseService
from service.notify.service import render_stored
from tests.factories import create_staff, verified_agency, verified_firm
from tests.factories_notify import organization, outbox
from tests.integration.matching.test_need_page_rules import principal
from tests.integration.matching.test_pages import csrf, sign_in

NEED = {
    "title": "구청 청사 방역 소독 용역",
    "description": "본관과 별관 연 4회 방역",
    "category_codes": ["CLN-DIS"],
    "budget_krw": 30_000_000,
    "needed_by": str(date.today() + timedelta(days=30)),
    "delivery_district": "eunpyeong",
}


async def world(client, sessionmaker, settings):
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff, name="서울특별시 은평구청", district="eunpyeong")
    other_agency = await verified_agency(client, staff, district="mapo")
    firm = await verified_firm(client, staff, name="은평방역협동조합", district="eunpyeong", category_codes=["CLN-DIS"])
    other_firm = await verified_firm(client, staff, district="mapo", category_codes=["CLN-DIS"])
    created = await client.post("/api/v1/needs", json=NEED, headers=agency.headers)
    assert created.status_code == 201, created.text
    return staff, agency, other_agency, firm, other_firm, created.json()["id"]


async def mails_both_ways(sessionmaker, need_id: str, rid: str, firm_email: str) -> None:
    """The response was mailed to the agency (linking to it on the need's page), the reply to the firm."""
    async with sessionmaker() as session:
        counts = await NeedResponseService(session).counts([uuid.UUID(need_id)])
        assert counts == {uuid.UUID(need_id): 1}
        assert await NeedResponseService(session).counts([uuid.UUID(need_id)], since=now()) == {}
        [to_agency] = await outbox(session, "need-response:")
        assert to_agency.template == "need_response_received"
        mail = render_stored(to_agency.template, to_agency.locale, to_agency.context or {})
        assert "은평방역협동조합" in mail.subject and "연 4회 방역 경험" in mail.text
        assert f"/needs/{need_id}#response-{rid}" in mail.text and "brochure.pdf" in mail.text
        [to_firm] = await outbox(session, "need-reply:")
        assert to_firm.recipient == firm_email
        reply_mail = render_stored(to_firm.template, to_firm.locale, to_firm.context or {})
        assert "다음 주 화요일에 통화해요" in reply_mail.text and "서울특별시 은평구청" in reply_mail.subject


async def test_a_firm_responds_the_agency_reads_and_replies_by_mail(client, sessionmaker, settings):
    staff, agency, other_agency, firm, other_firm, need_id = await world(client, sessionmaker, settings)
    url = f"/api/v1/needs/{need_id}/responses"
    later = (now() + timedelta(days=3)).isoformat()
    bad = await client.post(
        url,
        json={"message": "", "file_url": "http://x.example/a.pdf", "proposed_at": "2020-01-01T10:00:00+09:00"},
        headers=firm.headers,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"message", "file_url", "proposed_at"}
    too_long = await client.post(url, json={"message": "가" * 1001}, headers=firm.headers)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "message"
    body = {
        "message": "연 4회 방역 경험이 있습니다.",
        "file_url": "https://files.example/brochure.pdf",
        "proposed_at": later,
    }
    sent = await client.post(url, json=body, headers=firm.headers | {"Idempotency-Key": "resp-1"})
    assert sent.status_code == 201, sent.text
    again = await client.post(url, json=body, headers=firm.headers | {"Idempotency-Key": "resp-1"})
    assert again.status_code == 201 and again.json()["id"] == sent.json()["id"]  # the same answer, replayed
    second = await client.post(url, json=body, headers=firm.headers)
    assert second.status_code == 409  # one live response per need and firm
    assert (await client.post(url, json=body, headers=agency.headers)).status_code == 403

    # who may read: the agency and staff; another agency or another firm gets a 404
    listed = await client.get(url, headers=agency.headers)
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["firm"]["name"] == "은평방역협동조합" and row["file_url"] == body["file_url"]
    assert (await client.get(url, headers=staff.headers)).status_code == 200
    assert (await client.get(url, headers=other_agency.headers)).status_code == 404
    assert (await client.get(url, headers=other_firm.headers)).status_code == 404
    assert (await client.get(url, headers=firm.headers)).status_code == 404
    rid = row["id"]
    reply_url = f"{url}/{rid}/reply"
    assert (
        await client.post(reply_url, json={"message": "다음 주 통화 가능"}, headers=other_agency.headers)
    ).status_code == 404
    assert (await client.post(reply_url, json={"message": ""}, headers=agency.headers)).json()["errors"][0][
        "field"
    ] == "message"
    replied = await client.post(reply_url, json={"message": "다음 주 화요일에 통화해요"}, headers=agency.headers)
    assert replied.status_code == 200 and replied.json()["reply"] == "다음 주 화요일에 통화해요"

    await mails_both_ways(sessionmaker, need_id, rid, firm.email)

    # the firm edits, then withdraws, then may respond again
    edited = await client.patch(f"{url}/{rid}", json={"message": "수정한 제안"}, headers=firm.headers)
    assert edited.status_code == 200 and edited.json()["message"] == "수정한 제안"
    assert (await client.patch(f"{url}/{rid}", json={"message": "x"}, headers=other_firm.headers)).status_code == 404
    assert (await client.delete(f"{url}/{rid}", headers=firm.headers)).status_code == 200
    assert (await client.get(url, headers=agency.headers)).json() == []
    assert (await client.post(url, json={"message": "다시 관심"}, headers=firm.headers)).status_code == 201
    await client.post(f"/api/v1/needs/{need_id}/close", headers=agency.headers)
    closed = await client.post(url, json={"message": "늦은 관심"}, headers=other_firm.headers)
    assert closed.status_code == 404  # a closed need is no longer shown to firms


async def test_the_database_keeps_one_live_response_per_need_and_firm(client, sessionmaker, settings):
    _, _, _, firm, _, need_id = await world(client, sessionmaker, settings)
    async with sessionmaker() as session:
        firm_id = uuid.UUID(firm.organization_id)
        session.add(NeedResponse(need_id=uuid.UUID(need_id), firm_id=firm_id, message="a", withdrawn_at=now()))
        session.add(NeedResponse(need_id=uuid.UUID(need_id), firm_id=firm_id, message="b"))
        await session.flush()
        session.add(NeedResponse(need_id=uuid.UUID(need_id), firm_id=firm_id, message="c"))
        with pytest.raises(IntegrityError, match="uq_need_responses_live"):
            await session.flush()


async def test_pages_of_the_firm_and_the_agency(client, sessionmaker, settings):
    _, agency, _, firm, _, need_id = await world(client, sessionmaker, settings)
    await sign_in(client, firm.email)
    page = await client.get(f"/needs/{need_id}")
    assert page.status_code == 200
    assert "서울특별시 은평구청" in page.text and "본관과 별관 연 4회 방역" in page.text
    assert 'action="/needs/' + need_id + '/response"' in page.text
    bad = await client.post(
        f"/needs/{need_id}/response",
        data={"_csrf_token": csrf(page.text), "message": "", "file_url": "ftp://x", "proposed_at": "어제"},
    )
    assert bad.status_code == 422
    for field in ("message", "file_url", "proposed_at"):
        assert f'id="e-{field}"' in bad.text
    moment = (datetime.now() + timedelta(days=5)).strftime("%Y-%m-%dT10:00")
    sent = await client.post(
        f"/needs/{need_id}/response",
        data={"_csrf_token": csrf(page.text), "message": "방역 제안드립니다", "proposed_at": moment},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    mine = await client.get(sent.headers["location"])
    assert "방역 제안드립니다" in mine.text and "Withdraw" not in mine.text
    edited = await client.post(
        f"/needs/{need_id}/response",
        data={"_csrf_token": csrf(mine.text), "message": "고친 제안"},
        follow_redirects=False,
    )
    assert edited.status_code == 303

    await sign_in(client, agency.email)
    detail = await client.get(f"/needs/{need_id}")
    assert "고친 제안" in detail.text and "은평방역협동조합" in detail.text
    async with sessionmaker() as session:
        rid = await session.scalar(select(NeedResponse.id).where(NeedResponse.need_id == uuid.UUID(need_id)))
    empty = await client.post(
        f"/needs/{need_id}/responses/{rid}/reply", data={"_csrf_token": csrf(detail.text), "message": ""}
    )
    assert empty.status_code == 422 and f'id="reply-e-{rid}"' in empty.text
    replied = await client.post(
        f"/needs/{need_id}/responses/{rid}/reply",
        data={"_csrf_token": csrf(detail.text), "message": "통화 원해요"},
        follow_redirects=False,
    )
    assert replied.status_code == 303
    after = await client.get(replied.headers["location"])
    assert "통화 원해요" in after.text
    async with sessionmaker() as session:
        assert len(await outbox(session, "need-reply:")) == 1


async def test_contact_request_for_a_firm_without_account_asks_staff(client, sessionmaker, settings):
    staff, agency, _, _, _, need_id = await world(client, sessionmaker, settings)
    async with sessionmaker() as session:
        lonely = await organization(session, "firm", "계정없는방역조합", [])
        lonely.category_codes = ["CLN-DIS"]
        lonely.district = "eunpyeong"
        await session.commit()
        lonely_id = lonely.id
    await sign_in(client, agency.email)
    page = await client.get(f"/needs/{need_id}")
    assert "계정없는방역조합" in page.text
    asked = await client.post(
        f"/needs/{need_id}/shortlist",
        data={"_csrf_token": csrf(page.text), "firm_id": str(lonely_id), "invite": "contact"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    after = await client.get(f"/needs/{need_id}")
    card = after.text.split(f'id="firm-{lonely_id}"')[1].split("</li>")[0]
    assert "초대함" not in card and "Invited" not in card
    async with sessionmaker() as session:
        entry = await session.scalar(select(Shortlist).where(Shortlist.firm_id == lonely_id))
        assert entry is not None and entry.invite is None  # not claimed as invited
        tasks = await StaffTaskService(session).open_tasks(principal(staff, "staff"))
        assert [(t.organization.id, t.need and str(t.need.id)) for t in tasks] == [(lonely_id, need_id)]
        assert await session.scalar(select(StaffTask.kind)) == "reach_firm"
        assert await outbox(session, "invitation:") == []


async def test_a_firm_without_contact_details_is_said_to_have_none(client, sessionmaker, settings):
    _, agency, _, _, other_firm, _ = await world(client, sessionmaker, settings)
    async with sessionmaker() as session:
        bare = await organization(session, "firm", "연락처없는협동조합", [])
        await session.commit()
    await sign_in(client, agency.email)
    seen = await client.get(f"/firms/{bare.id}")
    assert "등록된 연락처가 없습니다" in seen.text
    assert "연락처는 승인된 공공기관" not in seen.text  # no promise of details that do not exist
    await sign_in(client, other_firm.email)
    hidden = await client.get(f"/firms/{bare.id}")
    if hidden.status_code == 200:
        assert "등록된 연락처가 없습니다" not in hidden.text  # the rule stays: another firm is not told
