import pytest

from tests.factories import agency_payload, firm_payload, register


class TestRegistration:
    async def test_agency_registers_pending(self, client):
        response = await client.post("/api/v1/register", json=agency_payload())
        assert response.status_code == 201
        body = response.json()
        assert body["organization"]["status"] == "pending"
        assert body["organization"]["kind"] == "agency"
        assert body["user"]["role"] == "agency"
        assert "password" not in str(body)

    async def test_firm_business_number_normalised(self, client):
        payload = firm_payload(business_number="101-81-00340")
        response = await client.post("/api/v1/register", json=payload)
        assert response.status_code == 201, response.text
        assert response.json()["organization"]["business_number"] == "101-81-00340"

    async def test_missing_fields_are_each_named(self, client):
        response = await client.post(
            "/api/v1/register",
            json={
                "kind": "firm",
                "user": {"email": "a@b.kr", "password": "long-enough-pw", "name": "x"},
                "organization": {},
            },
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"organization.name", "organization.business_number", "organization.district"} <= fields

    @pytest.mark.parametrize(
        ("user", "field"),
        [
            ({"email": "not-an-email", "password": "long-enough-pw", "name": "x"}, "user.email"),
            ({"email": "a@b.kr", "password": "short", "name": "x"}, "user.password"),
            ({"email": "a@b.kr", "password": "long-enough-pw", "name": ""}, "user.name"),
        ],
    )
    async def test_bad_user_fields(self, client, user, field):
        payload = agency_payload()
        payload["user"] = user
        response = await client.post("/api/v1/register", json=payload)
        assert response.status_code == 422
        assert field in {e["field"] for e in response.json()["errors"]}

    async def test_wrong_checksum_is_422_naming_the_field(self, client):
        response = await client.post("/api/v1/register", json=firm_payload(business_number="1018100341"))
        assert response.status_code == 422
        assert "organization.business_number" in {e["field"] for e in response.json()["errors"]}

    async def test_wrong_type_is_a_4xx_problem_not_500(self, client):
        response = await client.post("/api/v1/register", json={"kind": "firm", "user": 5, "organization": []})
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_email_unique_case_insensitively_and_nothing_half_written(self, client):
        first = agency_payload(email="Buyer@Example.go.kr")
        await register(client, first)
        second = firm_payload(email="buyer@example.GO.kr")
        response = await client.post("/api/v1/register", json=second)
        assert response.status_code in (409, 422)
        # the firm of the refused registration was not written either
        again = firm_payload(business_number=second["organization"]["business_number"])
        assert (await client.post("/api/v1/register", json=again)).status_code == 201

    async def test_staff_cannot_be_registered(self, client):
        payload = agency_payload()
        payload["kind"] = "staff"
        assert (await client.post("/api/v1/register", json=payload)).status_code in (400, 422)
