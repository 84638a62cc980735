"""The HTML side of accounts: forms with CSRF, errors next to fields, Korean first, English switch."""

import re

from tests.factories import PASSWORD, agency_payload, create_staff, register


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


class TestPages:
    async def test_login_page_is_korean_by_default(self, client):
        response = await client.get("/login")
        assert response.status_code == 200
        assert '<html lang="ko">' in response.text
        assert "로그인" in response.text

    async def test_english_switch_kept_in_a_cookie(self, client):
        switch = await client.get("/lang/en?next=/login", follow_redirects=False)
        assert switch.status_code == 303
        assert switch.headers["location"] == "/login"
        page = await client.get("/login")
        assert '<html lang="en">' in page.text
        assert "Sign in" in page.text

    async def test_language_switch_refuses_foreign_redirects(self, client):
        switch = await client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
        assert switch.headers["location"] == "/"

    async def test_form_post_without_csrf_is_refused(self, client):
        response = await client.post("/login", data={"email": "a@b.kr", "password": "x"})
        assert response.status_code == 403

    async def test_login_form_signs_in_and_redirects(self, client):
        account = await register(client, agency_payload())
        token = csrf_from((await client.get("/login")).text)
        response = await client.post(
            "/login",
            data={"email": account.email, "password": PASSWORD, "next": "/me", "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/me"
        me = await client.get("/me")
        assert me.status_code == 200
        assert "승인 대기" in me.text  # pending status shown to the organization's users

    async def test_registration_errors_next_to_fields(self, client):
        token = csrf_from((await client.get("/register?kind=firm")).text)
        response = await client.post(
            "/register",
            data={
                "_csrf_token": token,
                "kind": "firm",
                "user_email": "bad",
                "user_password": "short",
                "user_name": "대표",
                "name": "좋은기업",
                "business_number": "1018100341",
                "district": "mapo",
                "firm_types": "cooperative",
                "category_codes": "CLN-DIS",
                "description": "방역",
            },
        )
        assert response.status_code == 422
        html = response.text
        for field in ("user_email", "user_password", "business_number"):
            assert f'id="e-{field}"' in html, field
        assert 'value="좋은기업"' in html  # what the user typed is kept

    async def test_registration_form_creates_pending_firm(self, client):
        token = csrf_from((await client.get("/register?kind=agency")).text)
        response = await client.post(
            "/register",
            data={
                "_csrf_token": token,
                "kind": "agency",
                "user_email": "buyer@eunpyeong.go.kr",
                "user_password": PASSWORD,
                "user_name": "김구매",
                "name": "은평구청",
                "district": "eunpyeong",
                "agency_type": "district_office",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        me = await client.get("/me")
        assert "은평구청" in me.text

    async def test_staff_queue_requires_staff(self, client, sessionmaker, settings):
        anonymous = await client.get("/staff/organizations", follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login")
        agency = await register(client, agency_payload())
        client.cookies.clear()
        token = csrf_from((await client.get("/login")).text)
        await client.post("/login", data={"email": agency.email, "password": PASSWORD, "_csrf_token": token})
        assert (await client.get("/staff/organizations")).status_code == 403

    async def test_staff_verifies_from_the_queue(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        agency = await register(client, agency_payload(name="큐에서승인구청"))
        client.cookies.clear()
        token = csrf_from((await client.get("/login")).text)
        await client.post("/login", data={"email": staff.email, "password": PASSWORD, "_csrf_token": token})
        queue = await client.get("/staff/organizations")
        assert "큐에서승인구청" in queue.text
        token = csrf_from(queue.text)
        done = await client.post(
            f"/staff/organizations/{agency.organization_id}/verify",
            data={"_csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert "큐에서승인구청" not in (await client.get("/staff/organizations")).text
        me = (await client.get("/api/v1/me", headers=agency.headers)).json()
        assert me["organization"]["status"] == "verified"

    async def test_logout_form_ends_the_session(self, client):
        account = await register(client, agency_payload())
        token = csrf_from((await client.get("/login")).text)
        await client.post("/login", data={"email": account.email, "password": PASSWORD, "_csrf_token": token})
        page = await client.get("/me")
        await client.post("/logout", data={"_csrf_token": csrf_from(page.text)})
        assert (await client.get("/me", follow_redirects=False)).status_code == 303
