"""Issue 16 in the browser: staff run a briefing from creation to attendance (a firm registers from
the page and gets the mail), and staff open the 2020 program table of `procmatch demo`. Every page is
shot at 1366x900 and 390x844, measured (no sideways scroll, 44 px controls) and audited with axe."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import text

from service.config import load_settings
from service.db.engine import make_engine
from service.demo import DEMO_PASSWORD, STAFF_EMAIL, ensure_demo_data
from tests.e2e.conftest import Journey, Mailbox, in_thread
from tests.e2e.helpers import Seeder, second_tab, seoul_now, wait_for
from tests.e2e.test_main_journey import subject_of
from tests.e2e.test_phones import walk
from tests.factories import PASSWORD
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def _move_to_this_morning(database_url: str, session_id: str) -> None:
    """Time passes: the session took place this morning (the server's clock cannot be moved)."""

    async def move() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE program_sessions SET starts_at = now() - interval '3 hours', "
                         "ends_at = now() - interval '1 hour' WHERE id = :id"),
                    {"id": session_id},
                )  # fmt: skip
        finally:
            await engine.dispose()

    in_thread(lambda: asyncio.run(move()))


def test_staff_run_a_briefing_from_creation_to_attendance(
    browser: Browser,
    journey: Journey,
    server: LiveServer,
    seeder: Seeder,
    staff_login: tuple[str, str],
    mailbox: tuple[Mailbox, int],
) -> None:
    firm = seeder.firm()
    page = journey.page
    journey.who = "staff"
    journey.sign_in(*staff_login)
    journey.go("/programs/sessions/new")
    page.locator("#f-title").fill("사회적경제 공공구매 제도 설명회")
    page.locator("#f-audience").select_option("firms")
    tomorrow = (seoul_now() + timedelta(days=1)).date().isoformat()
    page.locator("#f-day").fill(tomorrow)
    page.locator("#f-start").fill("10:00")
    page.locator("#f-end").fill("09:00")  # before the start: refused with the field's message
    page.locator("#f-capacity").fill("30")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#e-end")).to_have_text("시작보다 뒤여야 합니다")
    expect(page.locator("#e-place")).to_be_visible()
    journey.shot("session form errors")
    journey.check_a11y()
    page.locator("#f-end").fill("12:00")
    page.locator("#f-place").fill("서울시 사회적경제지원센터 교육장")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".notice.ok")).to_contain_text("신청을 받습니다")
    session_path = page.url.split(journey.base_url)[1].split("?")[0]

    as_firm = second_tab(browser, journey, "firm")
    as_firm.sign_in(firm.email, PASSWORD)
    as_firm.go("/programs/sessions")
    as_firm.page.get_by_role("link", name="사회적경제 공공구매 제도 설명회").click()
    as_firm.page.locator("main form[action$='/register'] button[type=submit]").click()
    expect(as_firm.page.locator(".notice.ok")).to_contain_text("신청했습니다")
    walk(as_firm, ["/programs/sessions", session_path], {})
    box, _ = mailbox
    mail = wait_for(lambda: [m for m in box.to(firm.email) if "신청이 완료" in subject_of(m)], "the registration mail")
    assert "사회적경제 공공구매 제도 설명회" in subject_of(mail[0])

    _move_to_this_morning(server.database_url, session_path.rsplit("/", 1)[1])
    journey.go(session_path)
    page.locator("input[name=attended]").check()
    page.locator("#attendance button[type=submit]").click()
    expect(page.locator(".notice.ok")).to_have_text("참석 여부를 저장했습니다.")
    expect(page.locator("input[name=attended]")).to_be_checked()
    walk(journey, [session_path, "/programs/sessions", "/programs/activities"], {})


def test_staff_open_the_2020_program_table(journey: Journey, server: LiveServer, tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path), "SECRET_KEY": "e2e-secret-key-0123456789abcdef",
                              "BASE_URL": server.base_url, "SCHEDULER_ENABLED": "0"})  # fmt: skip
    in_thread(lambda: asyncio.run(ensure_demo_data(server.database_url, settings)))
    page = journey.page
    journey.who = "staff"
    journey.sign_in(STAFF_EMAIL, DEMO_PASSWORD)
    journey.go("/reports/programs?year=2020")
    rows = page.locator("#program-table tbody tr")
    expect(rows).to_have_count(6)
    expected = [
        ("사회적경제 공공구매 교육 및 설명회", "20회", "32회", "160%"),
        ("사회적가치 고려 매칭계약", "100억원", "101.5억원", "102%"),
        ("사업제안 및 정보제공 활동을 통한 계약", "20억원", "70.6억원", "353%"),
        ("공공구매 상담회 운영", "1회", "1회", "100%"),
        ("교육청 등 협력활동 지원", "4회", "4회", "100%"),
    ]
    for i, (name, target, actual, rate) in enumerate(expected, start=1):
        row = rows.nth(i)
        expect(row.locator("th").last).to_contain_text(name)
        expect(row.locator("td")).to_have_text([target, actual, rate])
    expect(rows.nth(0).locator("td").first).to_have_text("200건")
    expect(page.locator("svg.chart polyline")).to_have_count(6)
    walk(journey, ["/reports/programs?year=2020"], {})
