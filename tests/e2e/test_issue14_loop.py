"""Issue 14 §2, the firm↔agency loop in the browser: a firm reads a need (the agency, what it asks for)
and responds with the form; the agency reads the responses on the need's page, newest first, and
replies. Both pages are shot at 1366x900 and 390x844, audited with axe and read for English leaks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Journey
from tests.e2e.helpers import Seeder, seoul_now
from tests.e2e.test_issue12_pages import Api, korean_page, tab
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def test_a_firm_responds_and_the_agency_reads_and_replies(
    journey: Journey, browser: Browser, server: LiveServer, seeder: Seeder
) -> None:
    tag = uuid.uuid4().hex[:4]
    agency = seeder.agency(name=f"서울특별시 은평구청 {tag}", district="eunpyeong")
    firm_a = seeder.firm(name=f"은평방역협동조합 {tag}", district="eunpyeong")
    firm_b = seeder.firm(name=f"마포청소사회적협동조합 {tag}")
    as_agency, as_firm_b = Api(server, agency.email), Api(server, firm_b.email)
    need: dict[str, Any] = as_agency.call(
        "POST",
        "/needs",
        201,
        json={
            "title": f"구청 청사 방역 소독 용역 {tag}",
            "description": "본관과 별관을 분기마다 한 번씩, 연 4회 방역 소독합니다. 친환경 약제를 선호합니다.",
            "category_codes": ["CLN-DIS"],
            "budget_krw": 30_000_000,
            "needed_by": str(date.today() + timedelta(days=30)),
            "delivery_district": "eunpyeong",
        },
    )
    proposed = (seoul_now() + timedelta(days=4)).replace(hour=10, minute=0)
    as_firm_b.call(
        "POST",
        f"/needs/{need['id']}/responses",
        201,
        json={
            "message": "마포구 청사 3곳을 3년째 맡고 있습니다. 견적서를 첨부합니다.",
            "file_url": "https://files.example.kr/quotation.pdf",
            "proposed_at": proposed.isoformat(),
        },
    )

    # -- firm: the agency, what it asks for, and the response form ---------------------------------
    firm_tab = tab(browser, journey, "firm", firm_a)
    firm_tab.go(f"/needs/{need['id']}")
    page = firm_tab.page
    page.locator("#f-message").fill("은평구 복지관 두 곳을 연 4회 방역하고 있습니다. 친환경 약제만 씁니다.")
    page.locator("#f-file_url").fill("https://files.example.kr/brochure.pdf")
    page.locator("#f-proposed_at").fill(proposed.strftime("%Y-%m-%dT%H:%M"))
    korean_page(firm_tab, "need firm response form", agency.name, "기관이 요청한 내용", "관심 표명 보내기")
    page.get_by_role("button", name="관심 표명 보내기").click()
    expect(page.locator(".notice.ok")).to_contain_text("관심 표명을 기관에 보냈습니다")
    korean_page(firm_tab, "need firm responded", "관심 표명 고치기", "관심 표명 철회")

    # -- agency: the responses, newest first, with reply, shortlist and fair links -----------------
    agency_tab = tab(browser, journey, "agency", agency)
    agency_tab.go(f"/needs/{need['id']}")
    cards = agency_tab.page.locator("#responses li.card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(firm_a.name)  # the newest first
    expect(cards.nth(1)).to_contain_text("quotation.pdf")
    korean_page(agency_tab, "need agency responses", "기업의 관심 표명", firm_b.name, "답장 보내기")
    cards.first.locator("textarea").fill("다음 주 화요일 오전에 통화 가능할까요?")
    cards.first.get_by_role("button", name="답장 보내기").click()
    expect(agency_tab.page.locator(".notice.ok").first).to_contain_text("답장을 기업에 메일로 보냈습니다")
    as_agency.close()
    as_firm_b.close()
