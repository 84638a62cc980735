"""Issue 15's member journey: an agency admin invites a colleague from the members page, the colleague
accepts from the mail's link (name and password), lands signed in and sees the agency's needs; the admin
sees the new member and the history. Every page is shot at 1366x900 and 390x844 and audited with axe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import Message

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Journey, Mailbox
from tests.e2e.helpers import Seeder, second_tab, wait_for
from tests.e2e.test_issue12_pages import Api, korean_page
from tests.factories import PASSWORD
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def test_admin_invites_a_colleague_who_accepts_from_the_mail_and_sees_the_needs(
    journey: Journey, server: LiveServer, seeder: Seeder, mailbox: tuple[Mailbox, int]
) -> None:
    agency = seeder.agency(name="은평구청")
    as_agency = Api(server, agency.email)
    as_agency.call(
        "POST", "/needs", 201,
        json={"title": "구청 청사 방역 소독 용역", "category_codes": ["CLN-DIS"], "budget_krw": 30_000_000,
              "needed_by": str(date.today() + timedelta(days=30)), "delivery_district": "eunpyeong"},
    )  # fmt: skip
    as_agency.close()
    admin = journey
    admin.who = "admin"
    admin.sign_in(agency.email, PASSWORD)
    admin.go("/me")
    admin.page.get_by_role("link", name="구성원 관리").click()
    admin.page.wait_for_url("**/organization/members")
    korean_page(admin, "members page", "구성원", "동료 초대", "관리자")

    colleague_email = "colleague@eunpyeong.example.go.kr"
    admin.page.set_viewport_size({"width": 1366, "height": 900})
    admin.page.get_by_label("이메일").fill(colleague_email)
    admin.page.get_by_label("역할").select_option("member")
    admin.page.get_by_role("button", name="초대 메일 보내기").click()
    admin.page.wait_for_url("**/organization/members?done=invited")
    korean_page(admin, "invitation sent", "초대 메일을 보냈습니다.", colleague_email, "수락 대기 중인 초대")

    box, _ = mailbox
    [mail] = wait_for(lambda: box.to(colleague_email), "the invitation mail")
    link = re.search(r"https?://\S+/invitations/accept\?token=\S+", plain_text(mail))
    assert link, plain_text(mail)
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]

    colleague = second_tab(wrowser := admin.page.context.browser, admin, "colleague")  # type: ignore[arg-type]
    assert wrowser is not None
    colleague.go("/" + path)
    korean_page(colleague, "accept page", "초대 수락", "은평구청", colleague_email)
    colleague.page.set_viewport_size({"width": 1366, "height": 900})
    colleague.page.get_by_label("이름").fill("김동료")
    colleague.page.get_by_label("비밀번호").fill("colleague-password-1")
    colleague.page.get_by_role("button", name="은평구청에 가입").click()
    colleague.page.wait_for_url(colleague.base_url + "/?joined=1")
    colleague.go("/needs")
    korean_page(colleague, "the agency's needs", "구청 청사 방역 소독 용역")

    colleague.go("/" + path)  # the link worked once
    expect(colleague.page.locator("main")).to_contain_text("더 이상 쓸 수 없습니다")

    admin.go("/organization/members")
    korean_page(admin, "members after joining", "김동료", "구성원 가입")
    colleague.page.context.close()
