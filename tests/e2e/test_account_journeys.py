"""A firm member who forgot the password resets it from the sign-in page, then looks after the
account at /me/account (issue 15, items 4 and 5), at a desktop and a phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Journey, Mailbox
from tests.e2e.helpers import Seeder, wait_for
from tests.factories import firm_payload
from tests.factories_ops import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NEW_PASSWORD = "봄날의-새-비밀번호-2026"


@pytest.fixture
def seeder(server: LiveServer, staff_login: tuple[str, str]) -> Iterator[Seeder]:
    seeding = Seeder(server, *staff_login)
    yield seeding
    seeding.close()


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def link_in(box: Mailbox, address: str, path: str) -> str:
    """The path and query of the link to `path` in the newest mail to `address` that has one."""

    def find() -> str | None:
        for message in reversed(box.to(address)):
            found = re.search(r"https?://\S+" + re.escape(path) + r"\S*", text_of(message))
            if found:
                parts = urlsplit(found.group(0))
                return f"{parts.path}?{parts.query}"
        return None

    return str(wait_for(find, f"a mail to {address} linking {path}"))


def both_widths(journey: Journey, name: str) -> None:
    journey.page.set_viewport_size({"width": 1366, "height": 900})
    journey.shot(name + " 1366")
    journey.check_a11y()
    journey.page.set_viewport_size({"width": 390, "height": 844})
    journey.shot(name + " 390")
    journey.check_a11y()
    journey.page.set_viewport_size({"width": 1366, "height": 900})


class TestForgottenPassword:
    def test_a_firm_member_resets_the_password_from_the_sign_in_page(
        self, journey: Journey, seeder: Seeder, mailbox: tuple[Mailbox, int]
    ) -> None:
        box, _ = mailbox
        firm = seeder.firm(name="마포돌봄협동조합")
        page = journey.page
        journey.who = "firm"

        journey.go("/login")
        page.get_by_role("link", name="비밀번호를 잊으셨나요?").click()
        expect(page.locator("h1")).to_have_text("비밀번호 재설정")
        both_widths(journey, "reset form")
        page.locator("#f-email").fill(firm.email)
        page.get_by_role("button", name="링크 보내기").click()
        expect(page.locator("[role=status]")).to_contain_text("비밀번호 재설정 링크를 보냈습니다")
        both_widths(journey, "reset sent")

        journey.go(link_in(box, firm.email, "/password-reset/confirm"))
        expect(page.locator("h1")).to_have_text("새 비밀번호 정하기")
        page.locator("#f-password").fill("짧은암호")
        page.get_by_role("button", name="새 비밀번호 저장").click()
        expect(page.locator("#f-password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#e-password")).to_contain_text("10자 이상")
        both_widths(journey, "new password refused")
        page.locator("#f-password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="새 비밀번호 저장").click()
        page.wait_for_url("**/login?reset=1")
        expect(page.locator("[role=status]")).to_contain_text("새 비밀번호로 로그인하세요")
        both_widths(journey, "sign in after reset")

        journey.sign_in(firm.email, NEW_PASSWORD)
        page.wait_for_url(journey.base_url + "/")
        wait_for(
            lambda: any("다른 곳의 로그인은 모두 종료" in text_of(m) for m in box.to(firm.email)),
            "the notice of the changed password",
        )

        journey.go("/me/account")
        expect(page.locator("h1")).to_have_text("계정 설정")
        expect(page.get_by_role("link", name="메일 수신 설정")).to_have_attribute("href", "/me/notifications")
        both_widths(journey, "account settings")

        # the link works once
        journey.go(link_in(box, firm.email, "/password-reset/confirm"))
        expect(page.locator("[role=alert]")).to_contain_text("이미 사용했거나 기한이 지난 링크")
        journey.shot("used link")


class TestConfirmationInTheQueue:
    def test_staff_see_whether_a_registering_address_is_confirmed(
        self, journey: Journey, seeder: Seeder, server: LiveServer, staff_login: tuple[str, str],
        mailbox: tuple[Mailbox, int],
    ) -> None:  # fmt: skip
        box, _ = mailbox
        confirmed, unconfirmed = firm_payload(name="확인한협동조합"), firm_payload(name="미확인협동조합")
        for payload in (confirmed, unconfirmed):
            assert seeder.http.post("/register", json=payload).status_code == 201
            seeder.http.cookies.clear()
        page = journey.page
        journey.who = "firm"
        journey.go(link_in(box, confirmed["user"]["email"], "/confirm-email"))
        page.get_by_role("button", name="확인").click()
        expect(page.locator("[role=status]")).to_contain_text("확인되었습니다")
        journey.shot("address confirmed")

        journey.who = "staff"
        journey.sign_in(*staff_login)
        journey.go("/staff/organizations")
        expect(page.locator("tr", has_text="확인한협동조합")).to_contain_text("이메일 확인됨")
        expect(page.locator("tr", has_text="미확인협동조합")).to_contain_text("이메일 미확인")
        both_widths(journey, "queue")
