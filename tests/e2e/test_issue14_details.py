"""Issue 14's last details in the browser: a need's budget range, the firm's list marking the needs it
answered, every agency reply kept, contracts narrowed to a party with one click, and an unknown address
that keeps the signed-in header. Each page is shot at 1366x900 and 390x844, audited with axe and read for
English words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Journey
from tests.e2e.helpers import Seeder
from tests.e2e.test_issue12_pages import Api, korean_page, tab
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def test_ranges_answered_needs_replies_and_party_filters(
    journey: Journey, browser: Browser, server: LiveServer, seeder: Seeder
) -> None:
    tag = uuid.uuid4().hex[:4]
    agency = seeder.agency(name=f"서울특별시 강서구청 {tag}", district="gangseo")
    firm = seeder.firm(name=f"강서방역협동조합 {tag}", district="gangseo")
    as_agency, as_firm = Api(server, agency.email), Api(server, firm.email)
    need: dict[str, Any] = as_agency.call(
        "POST",
        "/needs",
        201,
        json={
            "title": f"보건소 방역 소독 용역 {tag}",
            "description": "보건소 두 곳을 분기마다 방역합니다.",
            "category_codes": ["CLN-DIS"],
            "budget_min_krw": 20_000_000,
            "budget_krw": 30_000_000,
            "needed_by": str(date.today() + timedelta(days=30)),
            "delivery_district": "gangseo",
        },
    )
    response = as_firm.call(
        "POST", f"/needs/{need['id']}/responses", 201, json={"message": "강서구 복지관 두 곳을 맡고 있습니다."}
    )
    for message in ("견적서를 먼저 보내 주시겠어요?", "다음 주 화요일 오전에 통화해요."):
        as_agency.call("POST", f"/needs/{need['id']}/responses/{response['id']}/reply", 200, json={"message": message})
    for title in ("보건소 방역 계약", "복지관 청소 계약"):
        as_agency.call(
            "POST",
            "/contracts",
            201,
            json={
                "agency_id": agency.id,
                "firm_id": firm.id,
                "amount_krw": 12_500_000,
                "contract_date": str(date.today()),
                "title": f"{title} {tag}",
            },
        )

    firm_tab = tab(browser, journey, "firm", firm)
    firm_tab.go("/needs")
    mark = firm_tab.page.locator(f"a[href='/needs/{need['id']}#my-response']")
    expect(mark).to_contain_text("관심을 표명했습니다")
    korean_page(firm_tab, "needs answered mark", "20,000,000–30,000,000원", "관심을 표명했습니다")
    mark.click()
    firm_tab.page.wait_for_url(f"**/needs/{need['id']}#my-response")
    replies = firm_tab.page.locator("ol.replies li")
    expect(replies).to_have_count(2)
    expect(replies.first).to_contain_text("견적서를 먼저")
    korean_page(firm_tab, "need replies kept", "기관의 답변", "다음 주 화요일 오전에 통화해요.")

    agency_tab = tab(browser, journey, "agency", agency)
    agency_tab.go("/contracts")
    agency_tab.page.locator("#all-h ~ table a", has_text=firm.name).first.click()
    agency_tab.page.wait_for_url(re.compile(f"/contracts\\?firm={firm.id}$"))
    expect(agency_tab.page.locator(".chips")).to_contain_text(firm.name)
    korean_page(agency_tab, "contracts narrowed to a firm", "모든 기업 보기", f"보건소 방역 계약 {tag}")
    agency_tab.page.locator(".chips a").click()
    agency_tab.page.wait_for_url(re.compile(r"/contracts\??$"))
    expect(agency_tab.page.locator(".chips")).to_have_count(0)

    agency_tab.go("/no-such-page")
    expect(agency_tab.page.locator("header form[action='/logout']")).to_have_count(1)
    korean_page(agency_tab, "unknown address signed in", "찾을 수 없음")
    as_agency.close()
    as_firm.close()
