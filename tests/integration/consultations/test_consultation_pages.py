"""The consultation pages: a firm asks (every bad field named at once, nothing written), staff see it
in the queue and confirm it; the firm sees the confirmed time but never the staff's notes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from service.consultations.models import Consultation
from service.lib import clock
from tests.factories import create_staff, verified_agency, verified_firm
from tests.integration.fairs.test_pages import csrf_from, sign_in

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # Tuesday 09:00 in Seoul


def form_token(html: str) -> dict[str, str]:
    match = re.search(r'name="_form_token" value="([^"]+)"', html)
    return {"_form_token": match.group(1)} if match else {}


async def test_a_firm_asks_and_staff_confirm_through_the_pages(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    firm = await verified_firm(client, staff)

    csrf = await sign_in(client, staff)
    hours = {"_csrf_token": csrf, "start_2": "10:00", "end_2": "12:00", "mode_2": "in_person", "place_2": "센터 상담실"}
    bad_hours = await client.post("/consultations/hours", data={**hours, "end_2": "09:00"})
    assert bad_hours.status_code == 422
    assert "aria-invalid" in bad_hours.text
    saved = await client.post("/consultations/hours", data=hours, follow_redirects=False)
    assert saved.status_code == 303

    csrf = await sign_in(client, firm)
    page = await client.get("/consultations/new")
    assert page.status_code == 200
    assert "2026. 12. 2.(수) 10:00" in page.text  # the staff member's Wednesday hours
    base = {"_csrf_token": csrf_from(page.text), **form_token(page.text)}
    bad = await client.post(
        "/consultations/new", data={**base, "topic": "", "message": "", "preferred_1": "2026-11-30T10:00"}
    )
    assert bad.status_code == 422
    assert bad.text.count('class="field-error"') == 3  # topic, message, time: all at once
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Consultation)) == 0
    page = await client.get("/consultations/new")
    asked = await client.post(
        "/consultations/new",
        data={
            "_csrf_token": csrf_from(page.text),
            **form_token(page.text),
            "topic": "certification",
            "message": "사회적기업 인증 후 우선구매 절차를 알고 싶습니다.",
            "preferred_1": "2026-12-02T10:00",
            "preferred_minutes": "60",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    url = asked.headers["location"]
    mine = await client.get(url)
    assert "접수" in mine.text and "2026. 12. 2.(수) 10:00" in mine.text

    csrf = await sign_in(client, staff)
    clock.set_now(NOW + timedelta(hours=2, minutes=5))
    queue = await client.get("/consultations")
    assert "2시간 5분" in queue.text and "인증·자격" in queue.text
    detail = await client.get(url)
    busy = await client.post(
        f"{url}/confirm",
        data={"_csrf_token": csrf, "start": "2026-12-02T13:00", "minutes": "60", "staff_id": staff.user_id},
    )
    assert busy.status_code == 422 and "담당 직원의 상담 시간 밖입니다" in busy.text
    confirmed = await client.post(
        f"{url}/confirm",
        data={
            "_csrf_token": csrf_from(detail.text),
            "start": "2026-12-02T10:00",
            "minutes": "60",
            "staff_id": staff.user_id,
        },
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    clock.set_now(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    staff_csrf = await sign_in(client, staff)
    recorded = await client.post(
        f"{url}/record",
        data={
            "_csrf_token": staff_csrf,
            "status": "held",
            "notes": "비공개 메모",
            "outcome": "인증 서류 안내",
            "follow_up_on": "2026-12-16",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    assert "후속 연락일 2026. 12. 16.(수)" in (await client.get("/consultations")).text

    await sign_in(client, firm)
    seen = await client.get(url)
    assert "상담 완료" in seen.text and "센터 상담실" in seen.text
    assert "비공개 메모" not in seen.text and "인증 서류 안내" not in seen.text
    rated = await client.post(
        f"{url}/rate", data={"_csrf_token": csrf_from(seen.text), "rating": "5"}, follow_redirects=False
    )
    assert rated.status_code == 303
    assert "5점 만점에 5점" in (await client.get(url)).text


async def test_staff_propose_times_and_the_agency_takes_one_on_the_page(client, sessionmaker, settings):
    clock.set_now(NOW)
    staff = await create_staff(client, sessionmaker, settings)
    agency = await verified_agency(client, staff)
    asked = await client.post(
        "/api/v1/consultations",
        json={
            "topic": "procedure",
            "message": "우선구매 절차 문의",
            "preferred": [{"start": "2026-12-02T05:00:00Z", "end": "2026-12-02T06:00:00Z"}],
        },
        headers=agency.headers,
    )
    url = f"/consultations/{asked.json()['id']}"
    csrf = await sign_in(client, staff)
    none = await client.post(f"{url}/propose", data={"_csrf_token": csrf, "proposed_minutes": "60"})
    assert none.status_code == 422 and 'id="e-proposed_1"' in none.text
    proposed = await client.post(
        f"{url}/propose",
        data={
            "_csrf_token": csrf,
            "proposed_1": "2026-12-03T14:00",
            "proposed_2": "2026-12-04T10:00",
            "proposed_minutes": "30",
        },
        follow_redirects=False,
    )
    assert proposed.status_code == 303, proposed.text

    await sign_in(client, agency)
    page = await client.get(url)
    assert "지원센터가 제안한 상담 시간" in page.text
    assert "2026. 12. 4.(금) 10:00 선택" in page.text
    taken = await client.post(
        f"{url}/accept",
        data={"_csrf_token": csrf_from(page.text), "start": "2026-12-04T10:00:00+09:00"},
        follow_redirects=False,
    )
    assert taken.status_code == 303, taken.text
    page = await client.get(url)
    assert "2026. 12. 4.(금) 10:00 – 10:30" in page.text
    cancelled = await client.post(f"{url}/cancel", data={"_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert cancelled.status_code == 303
    assert "취소" in (await client.get(url)).text
    assert (await client.post(f"{url}/explode", data={"_csrf_token": csrf_from(page.text)})).status_code == 404
