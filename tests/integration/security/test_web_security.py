"""What an attacker meets at the edge: headers, CSRF on every form, sessions, throttling, enumeration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import load_settings
from tests.factories import PASSWORD, agency_payload, create_staff, firm_payload, register
from tests.factories_ops import UNSAFE_METHODS, csrf_from, csrf_pair, fill_path, route_table

ROOT = Path(__file__).resolve().parents[3]


def csp_directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


class TestSecurityHeaders:
    @pytest.mark.parametrize("path", ["/", "/login", "/register", "/api/v1/me", "/health", "/no-such-page"])
    async def test_every_response_has_the_headers(self, client, path):
        response = await client.get(path)
        csp = csp_directives(response.headers["content-security-policy"])
        assert csp["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no 'unsafe-eval'
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert csp["frame-ancestors"] == "frame-ancestors 'none'"
        assert csp["object-src"] == "object-src 'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
        assert "strict-transport-security" not in response.headers  # plain http here

    async def test_hsts_and_secure_cookies_when_base_url_is_https(self, tmp_path: Path, database_url):
        settings = load_settings(
            {
                "DATA_DIR": str(tmp_path),
                "SECRET_KEY": "test-secret-key-0123456789abcdef",
                "SCHEDULER_ENABLED": "0",
                "BASE_URL": "https://procure-match.example.kr",
            }
        )
        async with AsyncTestClient(create_app(settings, database_url), base_url="https://127.0.0.1") as https:
            page = await https.get("/login")
            assert page.headers["strict-transport-security"].startswith("max-age=31536000")
            assert "Secure" in page.headers["set-cookie"]  # the CSRF cookie
            payload = agency_payload()
            assert (await https.post("/api/v1/register", json=payload)).status_code == 201
            login = await https.post(
                "/api/v1/auth/login", json={"email": payload["user"]["email"], "password": PASSWORD}
            )
            session = next(c for c in login.headers.get_list("set-cookie") if c.startswith("pm_session="))
            assert "Secure" in session and "HttpOnly" in session

    def test_templates_have_no_inline_script_or_style(self):
        offenders = []
        for template in (ROOT / "templates").rglob("*.html"):
            text = template.read_text()
            for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=", r"\son[a-z]+=", r"javascript:"):
                if re.search(pattern, text, re.IGNORECASE):
                    offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
        assert not offenders, "the CSP forbids these; move them to service/static/"


class TestCsrf:
    async def test_every_form_post_route_refuses_a_request_without_token(self, app, client):
        """Walks the route table: a new HTML POST route that forgets CSRF fails here."""
        account = await register(client, agency_payload())
        client.cookies.clear()
        unsafe = sorted(
            (method, path)
            for method, path in route_table(app)
            if method in UNSAFE_METHODS and not path.startswith("/api/")
        )
        assert ("POST", "/login") in unsafe and len(unsafe) >= 5
        for method, template in unsafe:
            url = fill_path(template, {"action": "verify"})
            for cookie in ({}, {"cookie": f"pm_session={account.token}"}):
                response = await client.request(method, url, data={"x": "1"}, headers=cookie)
                assert response.status_code == 403, f"{method} {template} accepted a form without CSRF token"
                client.cookies.clear()

    async def test_a_token_from_another_cookie_is_refused(self, client):
        first = await csrf_pair(client)
        second = await csrf_pair(client)
        mixed = {"x-csrftoken": first.token, "cookie": f"csrftoken={second.cookie}"}
        response = await client.post("/login", data={"email": "a@b.kr", "password": "x"}, headers=mixed)
        assert response.status_code == 403

    async def test_a_token_works_only_with_the_session_it_was_served_to(self, client):
        """Session B's cookie with A's token (taken from A's page) is refused; each with its own passes."""
        first = await register(client, agency_payload())
        second = await register(client, agency_payload())
        client.cookies.clear()
        a = await form_session(client, first.email)
        b = await form_session(client, second.email)
        pair_a = await csrf_pair(client, session=a)
        token_a = pair_a.token
        pair_b = await csrf_pair(client, session=b)
        assert token_a != pair_b.token
        # A's whole CSRF pair (cookie and token) riding on B's session cookie
        crossed = await client.post("/logout", data={"_csrf_token": token_a}, headers=pair_a.headers(b))
        assert crossed.status_code == 403
        client.cookies.clear()
        # B's cookies with A's token, as form field and as htmx header
        cookies_b = {"cookie": pair_b.headers(b)["cookie"]}
        assert (await client.post("/logout", data={"_csrf_token": token_a}, headers=cookies_b)).status_code == 403
        client.cookies.clear()
        header = {**pair_b.headers(b), "x-csrftoken": token_a}
        assert (await client.post("/logout", data={}, headers=header)).status_code == 403
        client.cookies.clear()
        # an anonymous double-submit pair is not accepted for a signed-in action either
        anonymous = await csrf_pair(client)
        cookie = f"csrftoken={anonymous.cookie}; pm_session={b}"
        forged = await client.post("/logout", data={"_csrf_token": anonymous.token}, headers={"cookie": cookie})
        assert forged.status_code == 403
        client.cookies.clear()
        still_in = await client.get("/me", headers={"cookie": f"pm_session={b}"}, follow_redirects=False)
        assert still_in.status_code == 200  # none of the refused requests signed B out
        own = await client.post(
            "/logout", data={"_csrf_token": pair_b.token}, headers=pair_b.headers(b), follow_redirects=False
        )
        assert own.status_code == 303

    async def test_a_new_session_retires_the_old_token(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        old = await form_session(client, account.email)
        old_pair = await csrf_pair(client, session=old)  # a page kept open from the earlier session
        new = await form_session(client, account.email)
        response = await client.post("/logout", data={"_csrf_token": old_pair.token}, headers=old_pair.headers(new))
        assert response.status_code == 403

    async def test_anonymous_forms_still_work(self, client):
        payload = agency_payload()
        assert (await client.post("/api/v1/register", json=payload)).status_code == 201
        client.cookies.clear()
        assert await form_session(client, payload["user"]["email"])  # /login with the anonymous pair
        page = await client.get("/register?kind=agency")
        token = csrf_from(page.text)
        response = await client.post("/register", data={"_csrf_token": token, "kind": "agency"})
        assert response.status_code == 422  # the form's own validation, past the CSRF check
        client.cookies.clear()

    async def test_every_rendered_form_carries_a_token(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        await register(client, firm_payload())  # something in the verification queue
        client.cookies.clear()
        pages = {"anonymous": ["/", "/login", "/register", "/register?kind=agency"]}
        pages["staff"] = ["/", "/me", "/staff/organizations"]
        forms = 0
        for actor, paths in pages.items():
            headers = {"cookie": f"pm_session={staff.token}"} if actor == "staff" else {}
            for path in paths:
                html = (await client.get(path, headers=headers)).text
                for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.DOTALL | re.IGNORECASE):
                    if re.search(r'method="post"', form, re.IGNORECASE):
                        forms += 1
                        assert 'name="_csrf_token"' in form, f"{path}: a POST form without CSRF token"
                client.cookies.clear()
        assert forms >= 6


async def form_session(client, email: str, password: str = PASSWORD) -> str:
    """Sign in through the HTML form with an anonymous CSRF pair; the new session cookie's value."""
    pair = await csrf_pair(client)
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": pair.token},
        headers=pair.headers(),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    client.cookies.clear()
    return TestSessions.session_of(response)


class TestSessions:
    async def _form_login(self, client, email, password=PASSWORD, planted: str | None = None):
        pair = await csrf_pair(client)
        headers = pair.headers(planted)
        return await client.post(
            "/login",
            data={"email": email, "password": password, "_csrf_token": pair.token},
            headers=headers,
            follow_redirects=False,
        )

    @staticmethod
    def session_of(response) -> str:
        for cookie in response.headers.get_list("set-cookie"):
            if cookie.startswith("pm_session="):
                return cookie.split(";", 1)[0].split("=", 1)[1]
        raise AssertionError("no session cookie set")

    async def test_login_issues_a_new_session_value_each_time(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        first = self.session_of(await self._form_login(client, account.email))
        client.cookies.clear()
        second = self.session_of(await self._form_login(client, account.email, planted=first))
        assert first != second

    async def test_a_planted_session_value_is_replaced_and_worthless(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        planted = "attacker-chosen-session-value"
        response = await self._form_login(client, account.email, planted=planted)
        assert response.status_code == 303
        assert self.session_of(response) != planted
        client.cookies.clear()
        me = await client.get("/me", headers={"cookie": f"pm_session={planted}"}, follow_redirects=False)
        assert me.status_code == 303 and me.headers["location"].startswith("/login")

    async def test_logout_clears_the_cookie_and_kills_the_token(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        session = self.session_of(await self._form_login(client, account.email))
        client.cookies.clear()
        assert (await client.get("/me", headers={"cookie": f"pm_session={session}"})).status_code == 200
        pair = await csrf_pair(client, session=session)  # a signed-in form's token is the session's
        out = await client.post(
            "/logout", data={"_csrf_token": pair.token}, headers=pair.headers(session), follow_redirects=False
        )
        assert out.status_code == 303
        cleared = next(c for c in out.headers.get_list("set-cookie") if c.startswith("pm_session="))
        assert "Max-Age=0" in cleared or 'pm_session="";' in cleared or "pm_session=;" in cleared
        client.cookies.clear()
        # the old value, replayed, no longer signs anyone in (HTML or API)
        replay = await client.get("/me", headers={"cookie": f"pm_session={session}"}, follow_redirects=False)
        assert replay.status_code == 303
        assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {session}"})).status_code == 401


class TestLoginThrottling:
    async def test_form_login_is_throttled_with_retry_after(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        for _ in range(5):
            pair = await csrf_pair(client)
            bad = await client.post(
                "/login",
                data={"email": account.email, "password": "wrong-password!", "_csrf_token": pair.token},
                headers=pair.headers(),
            )
            assert bad.status_code == 401
        pair = await csrf_pair(client)
        blocked = await client.post(
            "/login",
            data={"email": account.email, "password": PASSWORD, "_csrf_token": pair.token},
            headers=pair.headers(),
        )
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["retry-after"]) <= 600

    async def test_the_right_password_does_not_reset_an_ip_lockout(self, client, settings):
        victim = await register(client, agency_payload())
        for i in range(settings.auth.login_max_failures_per_address):
            await client.post("/api/v1/auth/login", json={"email": f"guess{i}@x.kr", "password": "nope-nope-1"})
        blocked = await client.post("/api/v1/auth/login", json={"email": victim.email, "password": PASSWORD})
        assert blocked.status_code == 429 and "retry-after" in blocked.headers


class TestNoUserEnumeration:
    async def test_api_login_unknown_and_wrong_answer_identically(self, client):
        account = await register(client, agency_payload())
        wrong = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "wrong-pass-1"})
        unknown = await client.post("/api/v1/auth/login", json={"email": "ghost@nowhere.kr", "password": "x1234567"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers

    async def test_form_login_unknown_and_wrong_answer_identically(self, client):
        account = await register(client, agency_payload())
        client.cookies.clear()
        bodies = []
        for email in (account.email, "ghost@nowhere.kr"):
            pair = await csrf_pair(client)
            response = await client.post(
                "/login",
                data={"email": email, "password": "wrong-pass-1", "_csrf_token": pair.token},
                headers=pair.headers(),
            )
            assert response.status_code == 401
            # the only difference allowed is the email typed in, echoed back, and the fresh CSRF token
            text = response.text.replace(email, "EMAIL")
            bodies.append(re.sub(r'name="_csrf_token" value="[^"]+"', "", text))
            bodies[-1] = re.sub(r'"x-csrftoken": "[^"]+"', "", bodies[-1])
        assert bodies[0] == bodies[1]

    async def test_registration_with_any_other_error_never_reveals_a_taken_email(self, client):
        taken = await register(client, agency_payload())
        answers = []
        for email in (taken.email, "fresh-address@nowhere.kr"):
            payload = agency_payload(email=email)
            payload["organization"]["agency_type"] = "not-a-type"
            response = await client.post("/api/v1/register", json=payload)
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]
        assert all(error["field"] != "user.email" for error in answers[0][1].get("errors", []))

    async def test_a_taken_email_is_answered_without_saying_so(self, client):
        taken = await register(client, agency_payload())
        response = await client.post("/api/v1/register", json=firm_payload(email=taken.email.upper()))
        assert response.status_code == 409
        body = response.json()
        assert body["errors"] == [{"field": "user.email", "message": "cannot be used"}]
        text = response.text.lower()
        assert "already" not in text and "exists" not in text and "registered" not in text

    async def test_probing_emails_by_registering_is_throttled(self, client):
        # charged like failed sign-ins: per (email, address) here, per address across emails
        # (tests/integration/accounts/test_abuse.py); emails not taken register, 5 an hour
        taken = await register(client, agency_payload())
        for _ in range(5):
            refused = await client.post("/api/v1/register", json=agency_payload(email=taken.email))
            assert refused.status_code == 409
        blocked = await client.post("/api/v1/register", json=agency_payload(email=taken.email))
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0

    async def test_ordinary_validation_errors_are_not_charged(self, client):
        for _ in range(8):
            payload = agency_payload()
            payload["user"]["password"] = "short"
            assert (await client.post("/api/v1/register", json=payload)).status_code == 422
        assert (await client.post("/api/v1/register", json=agency_payload())).status_code == 201
