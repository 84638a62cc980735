"""Input PostgreSQL refuses (NUL characters, numbers beyond bigint, overlong text) is a 422, never a 500."""

from __future__ import annotations

from tests.factories import agency_payload, create_staff, register, verified_firm


class TestDataExceptionsAreBadInput:
    async def test_nul_in_a_sign_in_email(self, client):
        response = await client.post("/api/v1/auth/login", json={"email": "a\u0000@x.kr", "password": "whatever-1"})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_nul_in_a_registration(self, client):
        payload = agency_payload()
        payload["organization"]["name"] = "구청\u0000"
        response = await client.post("/api/v1/register", json=payload)
        assert response.status_code == 422
        # nothing half-written: the same email registers cleanly afterwards
        payload["organization"]["name"] = "구청"
        assert (await client.post("/api/v1/register", json=payload)).status_code == 201

    async def test_number_beyond_bigint_in_a_profile(self, client, sessionmaker, settings):
        staff = await create_staff(client, sessionmaker, settings)
        firm = await verified_firm(client, staff)
        response = await client.patch(
            f"/api/v1/firms/{firm.organization_id}", json={"capacity_krw": 10**30}, headers=firm.headers
        )
        assert response.status_code in (400, 422)

    async def test_nul_in_a_bearer_token(self, client):
        await register(client, agency_payload())
        response = await client.get("/api/v1/me", headers={"Authorization": "Bearer \u0000"})
        assert response.status_code == 401
