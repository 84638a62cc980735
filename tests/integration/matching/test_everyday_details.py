"""Issue 14's last details around needs: a budget range, the firm's list marking needs it answered, and
every agency reply kept (each mailed), on the pages and through the API."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from service.needs.models import NeedResponseReply
from tests.factories_notify import outbox
from tests.integration.matching.test_need_responses import NEED, world
from tests.integration.matching.test_pages import csrf, sign_in


async def test_a_need_carries_a_budget_range_checked_field_by_field(client, sessionmaker, settings):
    _, agency, _, firm, _, need_id = await world(client, sessionmaker, settings)
    ranged = await client.post(
        "/api/v1/needs", json={**NEED, "budget_min_krw": 20_000_000, "budget_krw": 30_000_000}, headers=agency.headers
    )
    assert ranged.status_code == 201 and ranged.json()["budget_min_krw"] == 20_000_000
    upside_down = await client.post(
        "/api/v1/needs", json={**NEED, "budget_min_krw": 40_000_000, "budget_krw": 30_000_000}, headers=agency.headers
    )
    assert upside_down.status_code == 422
    assert [e["field"] for e in upside_down.json()["errors"]] == ["budget_min_krw"]
    # an edit is checked against the stored upper bound
    lowered = await client.patch(
        f"/api/v1/needs/{ranged.json()['id']}", json={"budget_krw": 10_000_000}, headers=agency.headers
    )
    assert lowered.status_code == 422 and lowered.json()["errors"][0]["field"] == "budget_min_krw"
    assert (await client.get(f"/api/v1/needs/{need_id}", headers=agency.headers)).json()["budget_min_krw"] is None

    await sign_in(client, firm.email)
    page = (await client.get(f"/needs/{ranged.json()['id']}")).text
    assert "20,000,000–30,000,000원" in page
    assert "20,000,000–30,000,000원" in (await client.get("/needs")).text
    await sign_in(client, agency.email)
    form = await client.get("/needs/new")
    bad = await client.post(
        "/needs/new",
        data={
            "_csrf_token": csrf(form.text),
            "title": "범위 수요",
            "category_codes": "CLN-DIS",
            "budget_min_krw": "50000000",
            "budget_krw": "30000000",
            "needed_by": NEED["needed_by"],
        },
    )
    assert bad.status_code == 422
    assert 'id="e-budget_min_krw"' in bad.text and "예산(상한)보다 클 수 없습니다" in bad.text


async def test_the_firms_list_marks_the_needs_it_answered(client, sessionmaker, settings):
    _, _, _, firm, _, need_id = await world(client, sessionmaker, settings)
    await sign_in(client, firm.email)
    before = (await client.get("/needs")).text
    assert f'href="/needs/{need_id}"' in before and "관심을 표명했습니다" not in before
    sent = await client.post(f"/api/v1/needs/{need_id}/responses", json={"message": "제안"}, headers=firm.headers)
    assert sent.status_code == 201
    after = (await client.get("/needs")).text
    assert f'href="/needs/{need_id}#my-response"' in after and "관심을 표명했습니다" in after
    withdrawn = await client.delete(f"/api/v1/needs/{need_id}/responses/{sent.json()['id']}", headers=firm.headers)
    assert withdrawn.status_code == 200
    assert "관심을 표명했습니다" not in (await client.get("/needs")).text


async def test_every_agency_reply_is_kept_and_mailed(client, sessionmaker, settings):
    _, agency, _, firm, _, need_id = await world(client, sessionmaker, settings)
    sent = await client.post(f"/api/v1/needs/{need_id}/responses", json={"message": "제안"}, headers=firm.headers)
    rid = sent.json()["id"]
    for message in ("먼저 자료를 보내 주세요", "다음 주 화요일에 통화해요"):
        replied = await client.post(
            f"/api/v1/needs/{need_id}/responses/{rid}/reply", json={"message": message}, headers=agency.headers
        )
        assert replied.status_code == 200 and replied.json()["reply"] == message  # the API shows the latest
    async with sessionmaker() as session:
        kept = (
            await session.scalars(
                select(NeedResponseReply.message)
                .where(NeedResponseReply.response_id == uuid.UUID(rid))
                .order_by(NeedResponseReply.created_at)
            )
        ).all()
        assert kept == ["먼저 자료를 보내 주세요", "다음 주 화요일에 통화해요"]
        assert len(await outbox(session, "need-reply:")) == 2
    listed = await client.get(f"/api/v1/needs/{need_id}/responses", headers=agency.headers)
    assert [(r["reply"], r["replied_at"] is not None) for r in listed.json()] == [(kept[-1], True)]
    await sign_in(client, firm.email)
    page = (await client.get(f"/needs/{need_id}")).text
    assert "기관의 답변" in page and page.index("먼저 자료를") < page.index("다음 주 화요일")
    await sign_in(client, agency.email)
    page = (await client.get(f"/needs/{need_id}")).text
    assert page.count("보낸 답장") == 2 and page.index("먼저 자료를") < page.index("다음 주 화요일")
