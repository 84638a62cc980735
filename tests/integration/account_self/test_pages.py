"""The pages of account self-service: the forgotten-password flow from the sign-in page, and
/me/account (profile, password, email change with its link, sessions)."""

from __future__ import annotations

import pytest

from service.lib import clock
from service.notify.dispatcher import drain
from tests.factories import PASSWORD, firm_payload, login
from tests.integration.account_self.helpers import body, token_in
from tests.integration.accounts.test_pages import csrf_from

NEW_PASSWORD = "새 비밀번호는-충분히-깁니다"


@pytest.fixture
def settings(smtp_settings):
    return smtp_settings


async def sign_in(client, email: str, password: str = PASSWORD) -> None:
    token = csrf_from((await client.get("/login")).text)
    response = await client.post(
        "/login", data={"email": email, "password": password, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


async def post_form(client, page: str, action: str, data: dict[str, str]):
    token = csrf_from((await client.get(page)).text)
    return await client.post(action, data={**data, "_csrf_token": token}, follow_redirects=False)


class TestForgottenPassword:
    async def test_from_the_sign_in_page_to_a_new_password(self, enroll, client, sessionmaker, settings, smtp):
        clock.set_now(clock.now())  # the answer's floor is not waited out for real
        account = await enroll(firm_payload())
        login_page = (await client.get("/login")).text
        assert 'href="/password-reset"' in login_page and "비밀번호를 잊으셨나요?" in login_page

        sent = await post_form(client, "/password-reset", "/password-reset", {"email": account.email})
        assert sent.status_code == 200
        assert "비밀번호 재설정 링크를 보냈습니다" in sent.text
        unknown = await post_form(client, "/password-reset", "/password-reset", {"email": "nobody@example.kr"})
        assert unknown.status_code == 200
        assert unknown.text.replace("nobody@example.kr", account.email) == sent.text
        await drain(sessionmaker, settings)
        [mail] = smtp.inbox.to(account.email)
        token = token_in(mail)
        smtp.inbox.clear()

        form = await client.get(f"/password-reset/confirm?token={token}")
        assert form.status_code == 200 and 'name="password"' in form.text
        short = await client.post(
            "/password-reset/confirm", data={"token": token, "password": "짧음", "_csrf_token": csrf_from(form.text)}
        )
        assert short.status_code == 422 and 'aria-invalid="true"' in short.text
        done = await client.post(
            "/password-reset/confirm",
            data={"token": token, "password": NEW_PASSWORD, "_csrf_token": csrf_from(form.text)},
            follow_redirects=False,
        )
        assert (done.status_code, done.headers["location"]) == (303, "/login?reset=1")
        assert "새 비밀번호로 로그인하세요" in (await client.get("/login?reset=1")).text
        await sign_in(client, account.email, NEW_PASSWORD)

        used = await client.get(f"/password-reset/confirm?token={token}")
        assert used.status_code == 410 and 'href="/password-reset"' in used.text
        await drain(sessionmaker, settings)
        assert len(smtp.inbox.to(account.email)) == 1  # the notice


class TestAccountSettings:
    async def test_profile_and_language(self, enroll, client, settings, smtp):
        account = await enroll(firm_payload())
        await sign_in(client, account.email)
        page = await client.get("/me/account")
        assert page.status_code == 200 and "계정 설정" in page.text and 'href="/me/notifications"' in page.text
        bad = await post_form(client, "/me/account", "/me/account/profile", {"name": "", "phone": "x", "locale": "ko"})
        assert bad.status_code == 422 and bad.text.count('aria-invalid="true"') == 2
        saved = await post_form(
            client, "/me/account", "/me/account/profile", {"name": "김대표", "phone": "010-1234-5678", "locale": "en"}
        )
        assert saved.status_code == 303
        after = await client.get("/me/account")
        assert '<html lang="en">' in after.text and "김대표" in after.text

    async def test_password_change_needs_the_current_one_and_ends_the_other_sessions(
        self, enroll, client, sessionmaker, settings, smtp
    ):
        account = await enroll(firm_payload())
        await sign_in(client, account.email)
        wrong = await post_form(
            client,
            "/me/account",
            "/me/account/password",
            {"current_password": "wrong-one-123", "new_password": NEW_PASSWORD},
        )
        assert wrong.status_code == 422 and "현재 비밀번호와 다릅니다" in wrong.text
        changed = await post_form(
            client, "/me/account", "/me/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert changed.status_code == 303
        assert (await client.get("/api/v1/me", headers=account.headers)).status_code == 401  # the other session
        assert (await client.get("/me/account")).status_code == 200  # this one
        await drain(sessionmaker, settings)
        [notice] = smtp.inbox.to(account.email)
        assert "비밀번호가 변경되었습니다" in str(notice["Subject"])

    async def test_email_change_is_confirmed_by_the_new_address_and_told_to_the_old(
        self, enroll, client, sessionmaker, settings, smtp
    ):
        account = await enroll(firm_payload())
        await sign_in(client, account.email)
        new = "new-address@example.kr"
        asked = await post_form(client, "/me/account", "/me/account/email", {"email": new, "password": PASSWORD})
        assert asked.status_code == 303
        await drain(sessionmaker, settings)
        [told] = smtp.inbox.to(account.email)
        assert new in body(told) and "/password-reset" in body(told)
        [confirm] = smtp.inbox.to(new)
        token = token_in(confirm)
        assert (await client.get("/api/v1/me", headers=account.headers)).json()["email"] == account.email

        client.cookies.clear()  # the link works in any browser
        page = await client.get(f"/me/account/email/confirm?token={token}")
        done = await client.post(
            "/me/account/email/confirm", data={"token": token, "_csrf_token": csrf_from(page.text)}
        )
        assert done.status_code == 200 and new in done.text
        again = await client.post(
            "/me/account/email/confirm", data={"token": token, "_csrf_token": csrf_from(page.text)}
        )
        assert again.status_code == 410
        await login(client, new)

    async def test_an_address_of_another_account_is_refused(self, enroll, client, settings, smtp):
        one = await enroll(firm_payload())
        two = await enroll(firm_payload())
        await sign_in(client, one.email)
        taken = await post_form(client, "/me/account", "/me/account/email", {"email": two.email, "password": PASSWORD})
        assert taken.status_code == 409 and 'aria-invalid="true"' in taken.text

    async def test_sign_out_everywhere_else(self, enroll, client, settings, smtp):
        account = await enroll(firm_payload())
        other = await login(client, account.email)
        await sign_in(client, account.email)
        page = (await client.get("/me/account")).text
        assert page.count("/me/account/sessions/") >= 2  # one session's button and "everywhere else"
        done = await post_form(client, "/me/account", "/me/account/sessions/others", {})
        assert done.status_code == 303
        for bearer in (account.token, other):
            assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})).status_code == 401
        assert (await client.get("/me/account")).status_code == 200
