"""Email confirmation at registration (issue 15, item 6): a link is mailed; opening it marks the address
confirmed; staff see it in the verification queue; nothing waits for it."""

from __future__ import annotations

import pytest

from service.notify.dispatcher import drain
from tests.factories import agency_payload, create_staff, register, verify
from tests.integration.account_self.helpers import token_in
from tests.integration.accounts.test_pages import csrf_from


@pytest.fixture
def settings(smtp_settings):
    return smtp_settings


async def confirmation_token(client, sessionmaker, settings, smtp, email: str) -> str:
    await drain(sessionmaker, settings)
    [message] = smtp.inbox.to(email)
    smtp.inbox.clear()
    assert "이메일 주소 확인" in str(message["Subject"])
    return token_in(message)


class TestEmailConfirmation:
    async def test_registration_mails_a_link_that_confirms_the_address_once(self, client, sessionmaker, settings, smtp):
        account = await register(client, agency_payload())
        token = await confirmation_token(client, sessionmaker, settings, smtp, account.email)
        page = await client.get(f"/confirm-email?token={token}")
        assert page.status_code == 200  # opening the link changes nothing: a button does
        done = await client.post("/confirm-email", data={"token": token, "_csrf_token": csrf_from(page.text)})
        assert done.status_code == 200 and account.email in done.text
        again = await client.post("/confirm-email", data={"token": token, "_csrf_token": csrf_from(page.text)})
        assert again.status_code == 410

    async def test_staff_see_in_the_queue_whether_the_address_is_confirmed_and_may_verify_either_way(
        self, client, sessionmaker, settings, smtp
    ):
        staff = await create_staff(client, sessionmaker, settings)
        confirmed = await register(client, agency_payload(name="확인한구청"))
        unconfirmed = await register(client, agency_payload(name="미확인구청"))
        token = await confirmation_token(client, sessionmaker, settings, smtp, confirmed.email)
        smtp.inbox.clear()
        page = await client.get(f"/confirm-email?token={token}")
        await client.post("/confirm-email", data={"token": token, "_csrf_token": csrf_from(page.text)})

        client.cookies.clear()
        queue = await client.get("/staff/organizations", headers={"cookie": f"pm_session={staff.token}"})
        assert queue.status_code == 200
        row_of = {name: queue.text[queue.text.index(name) :][:1500] for name in ("확인한구청", "미확인구청")}
        assert "이메일 확인됨" in row_of["확인한구청"]
        assert "이메일 미확인" in row_of["미확인구청"]
        await verify(client, staff, unconfirmed.organization_id)  # it blocks nothing
        await drain(sessionmaker, settings)
        smtp.inbox.clear()
