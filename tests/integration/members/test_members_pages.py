"""The members page and accepting an invitation from the mailed link, in the browser's shape (forms, CSRF)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

from sqlalchemy import select

from service.accounts.models import User
from service.lib import clock
from service.notify.dispatcher import drain
from tests.factories import PASSWORD, agency_payload, register
from tests.integration.accounts.test_pages import csrf_from
from tests.integration.members.helpers import colleague_email, invite, joined, mailed_token


async def sign_in(client, email):
    client.cookies.clear()
    token = csrf_from((await client.get("/login")).text)
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


async def post_form(client, page, action, **data):
    token = csrf_from((await client.get(page)).text)
    return await client.post(action, data={"_csrf_token": token, **data}, follow_redirects=False)


class TestMembersPage:
    async def test_admin_invites_and_sees_the_invitation_and_history(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        await sign_in(client, admin.email)
        page = await client.get("/organization/members")
        assert page.status_code == 200 and "동료 초대" in page.text and "관리자" in page.text
        email = colleague_email()
        done = await post_form(
            client, "/organization/members", "/organization/members/invite", email=email, role="admin"
        )
        assert done.status_code == 303 and done.headers["location"] == "/organization/members?done=invited"
        page = await client.get(done.headers["location"])
        assert "초대 메일을 보냈습니다." in page.text and email in page.text
        assert "구성원 초대" in page.text  # the history
        token = await mailed_token(sessionmaker, smtp_settings, smtp, email)
        assert token

    async def test_refusals_show_next_to_the_field_and_write_nothing(self, client, sessionmaker):
        admin = await register(client, agency_payload())
        other = await register(client, agency_payload())
        await sign_in(client, admin.email)
        bad = await post_form(client, "/organization/members", "/organization/members/invite", email="x", role="boss")
        assert bad.status_code == 422
        assert 'id="e-email"' in bad.text and 'id="e-role"' in bad.text
        taken = await post_form(
            client, "/organization/members", "/organization/members/invite", email=other.email, role="member"
        )
        assert taken.status_code == 409
        assert "다른 기관에 속한 이메일입니다" in taken.text
        last = await post_form(client, "/organization/members", f"/organization/members/{admin.user_id}/remove")
        assert last.status_code == 409 and "마지막 관리자는 제외할 수 없습니다" in last.text

    async def test_a_member_sees_the_list_but_no_forms(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        member = await joined(client, sessionmaker, smtp_settings, smtp, admin)
        await sign_in(client, member.email)
        page = await client.get("/organization/members")
        assert page.status_code == 200 and admin.email in page.text and member.email in page.text
        assert "동료 초대" not in page.text and "/remove" not in page.text
        refused = await post_form(
            client, "/organization/members", "/organization/members/invite", email=colleague_email(), role="member"
        )
        assert refused.status_code == 403

    async def test_admin_removes_a_member_whose_browser_session_ends(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        member = await joined(client, sessionmaker, smtp_settings, smtp, admin)
        await sign_in(client, member.email)
        member_cookie = client.cookies.get("pm_session")
        await sign_in(client, admin.email)
        done = await post_form(client, "/organization/members", f"/organization/members/{member.user_id}/remove")
        assert done.headers["location"] == "/organization/members?done=removed"
        client.cookies.clear()
        after = await client.get("/organization/members", headers={"cookie": f"pm_session={member_cookie}"},
                                 follow_redirects=False)  # fmt: skip
        assert after.status_code == 303 and after.headers["location"].startswith("/login")


class TestAcceptPage:
    async def test_accept_from_the_mailed_link_signs_in(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload(name="은평구청"))
        email = colleague_email()
        await invite(client, admin, email)
        await drain(sessionmaker, smtp_settings)
        [message] = smtp.inbox.to(email)
        link = re.search(
            r"http://127\.0\.0\.1:8000(/invitations/accept\?token=\S+)", message.get_body(("plain",)).get_content()
        )
        assert link
        client.cookies.clear()
        page = await client.get(link.group(1))
        assert page.status_code == 200 and "은평구청" in page.text and email in page.text
        token = unquote(link.group(1).split("token=", 1)[1])
        short = await client.post(
            "/invitations/accept", data={"_csrf_token": csrf_from(page.text), "token": token, "name": "김동료",
                                         "password": "short"}, follow_redirects=False,
        )  # fmt: skip
        assert short.status_code == 422 and 'id="e-password"' in short.text
        done = await client.post(
            "/invitations/accept", data={"_csrf_token": csrf_from(page.text), "token": token, "name": "김동료",
                                         "password": PASSWORD}, follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == "/?joined=1"
        members = await client.get("/organization/members")
        assert "김동료" in members.text
        async with sessionmaker() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None and str(user.organization_id) == admin.organization_id
        again = await client.get(link.group(1))
        assert again.status_code == 410 and "더 이상 쓸 수 없습니다" in again.text

    async def test_an_expired_link_says_so(self, client, sessionmaker, smtp, smtp_settings):
        admin = await register(client, agency_payload())
        email = colleague_email()
        await invite(client, admin, email)
        token = await mailed_token(sessionmaker, smtp_settings, smtp, email)
        clock.set_now(clock.now() + timedelta(days=8))
        page = await client.get("/invitations/accept", params={"token": token})
        assert page.status_code == 410
