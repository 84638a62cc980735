"""Issue 15's mail in the browser: a firm member gets the weekly digest of new needs that fit (the
job run against the live server's database; its dispatcher sends the mail), reads it (shot at both
widths), then turns the digest off on /me/notifications (shot at both widths, audited with axe)."""

from __future__ import annotations

import asyncio
import email.policy
from datetime import date, datetime, time, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from service.config import load_settings
from service.db.engine import make_engine, make_sessionmaker
from service.lib import clock
from service.notify.digest import send_digests
from tests.e2e.conftest import Journey, Mailbox, in_thread
from tests.e2e.helpers import SEOUL, Seeder, seoul_now, wait_for
from tests.e2e.test_issue12_pages import Api, korean_page
from tests.factories import PASSWORD
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Seeder:
    seeding = Seeder(server, *staff_login)
    yield seeding  # type: ignore[misc]
    seeding.close()


def next_monday_morning() -> datetime:
    """The coming Monday 10:00 in Seoul (within a week, so the needs posted now are new for it)."""
    today = seoul_now().date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime.combine(monday, time(10, 0), tzinfo=SEOUL)


def run_digest_job(database_url: str, base_url: str, tmp: Path) -> int:
    async def run() -> int:
        engine = make_engine(database_url, pool_size=2)
        try:
            settings = load_settings(
                {"DATA_DIR": str(tmp / "job"), "SECRET_KEY": "e2e-secret-key-0123456789abcdef", "BASE_URL": base_url}
            )
            sessionmaker = make_sessionmaker(engine, settings)
            queued = await send_digests(sessionmaker, settings)
            async with sessionmaker.begin() as session:  # queued on the job's (frozen) Monday: due now
                await session.execute(
                    text("UPDATE outbox_messages SET due_at = now() WHERE dedupe_key LIKE 'digest:%'")
                )
            return queued
        finally:
            await engine.dispose()

    clock.set_now(next_monday_morning())
    try:
        return in_thread(lambda: asyncio.run(run()))
    finally:
        clock.set_now(None)


def test_a_firm_member_reads_the_weekly_digest_and_turns_it_off(
    journey: Journey,
    server: LiveServer,
    seeder: Seeder,
    e2e_database_url: str,
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    box, _port = mailbox
    agency = seeder.agency(name="마포구청")
    firm = seeder.firm(name="마포방역협동조합")
    as_agency = Api(server, agency.email)
    needed_by = str(date.today() + timedelta(days=40))
    for title, code, budget in (
        ("구청 화장실 청소 용역", "CLN-BLD", 8_000_000),
        ("구청 청사 방역 소독 용역", "CLN-DIS", 30_000_000),
    ):
        as_agency.call(
            "POST",
            "/needs",
            201,
            json={
                "title": title,
                "description": f"{title} (연 12회)",
                "category_codes": [code],
                "budget_krw": budget,
                "needed_by": needed_by,
                "delivery_district": "mapo",
            },
        )
    as_agency.close()

    assert run_digest_job(e2e_database_url, server.base_url, tmp_path) >= 1
    [parsed] = wait_for(
        lambda: [
            p
            for p in (message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box.to(firm.email))
            if "새 구매 수요" in str(p["Subject"])
        ],
        "the weekly digest",
        timeout=30,
    )
    assert parsed["Subject"] == "[공공구매 상담·매칭] 이번 주 마포방역협동조합에 맞는 새 구매 수요 2건"
    html = parsed.get_body(("html",)).get_content()
    assert html.index("구청 청사 방역 소독 용역") < html.index("구청 화장실 청소 용역")  # best match first

    page = journey.page
    journey.who = "firm"
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.set_content(html)
        journey.shot(f"digest mail {width}")

    journey.sign_in(firm.email, PASSWORD)
    journey.go("/me/notifications")
    korean_page(journey, "mail notifications", "메일 알림 설정", "주간 구매 수요 소식", "항상 받는 메일")
    digest_box = page.get_by_role("checkbox", name="주간 구매 수요 소식")
    expect(digest_box).to_be_checked()
    digest_box.uncheck()
    page.get_by_role("button", name="저장").click()
    page.wait_for_url("**/me/notifications?saved=1")
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("checkbox", name="주간 구매 수요 소식")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="상담 알림")).to_be_checked()
    journey.shot("mail notifications saved")
