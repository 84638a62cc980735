from datetime import timedelta

from service.lib import clock
from tests.factories import PASSWORD, agency_payload, register


class TestLogin:
    async def test_login_returns_token_and_session_cookie(self, client):
        account = await register(client, agency_payload())
        response = await client.post("/api/v1/auth/login", json={"email": account.email.upper(), "password": PASSWORD})
        assert response.status_code == 200
        body = response.json()
        assert body["token"] and body["user"]["email"] == account.email
        cookie = response.headers["set-cookie"]
        assert "pm_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie  # BASE_URL is http in tests

    async def test_wrong_password_is_401(self, client):
        account = await register(client, agency_payload())
        response = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "wrong-password!"})
        assert response.status_code == 401
        assert response.json()["status"] == 401

    async def test_unknown_email_answers_like_wrong_password(self, client):
        account = await register(client, agency_payload())
        wrong = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "wrong-password!"})
        unknown = await client.post("/api/v1/auth/login", json={"email": "nobody@x.kr", "password": "wrong-password!"})
        assert wrong.status_code == unknown.status_code
        assert wrong.json()["detail"] == unknown.json()["detail"]

    async def test_throttled_after_five_failures_per_account(self, client):
        account = await register(client, agency_payload())
        for _ in range(5):
            bad = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "wrong-password!"})
            assert bad.status_code == 401
        blocked = await client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        clock.advance(timedelta(minutes=11))
        assert (
            await client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
        ).status_code == 200

    async def test_throttled_per_ip_across_accounts(self, client, settings):
        for i in range(settings.auth.login_max_failures_per_address):
            await client.post("/api/v1/auth/login", json={"email": f"x{i}@nobody.kr", "password": "wrong-password!"})
        blocked = await client.post("/api/v1/auth/login", json={"email": "other@nobody.kr", "password": "whatever-pw"})
        assert blocked.status_code == 429


class TestTokens:
    async def test_token_expires(self, client):
        account = await register(client, agency_payload())
        assert (await client.get("/api/v1/me", headers=account.headers)).status_code == 200
        clock.advance(timedelta(hours=12, minutes=1))
        expired = await client.get("/api/v1/me", headers=account.headers)
        assert expired.status_code == 401
        assert expired.headers["content-type"].startswith("application/problem+json")

    async def test_logout_revokes(self, client):
        account = await register(client, agency_payload())
        assert (await client.post("/api/v1/auth/logout", headers=account.headers)).status_code == 204
        assert (await client.get("/api/v1/me", headers=account.headers)).status_code == 401

    async def test_garbage_token_is_401(self, client):
        assert (await client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})).status_code == 401

    async def test_cookie_alone_cannot_write_through_the_api(self, client):
        account = await register(client, agency_payload())
        response = await client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
        assert response.status_code == 200
        # GET with the cookie works (the browser reading its own data) ...
        assert (await client.get("/api/v1/me")).status_code == 200
        # ... but a state-changing API call needs the bearer token (CSRF defence)
        assert (await client.post("/api/v1/auth/logout")).status_code == 401
