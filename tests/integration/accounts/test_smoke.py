from tests.factories import agency_payload, register


async def test_register_and_me(client):
    account = await register(client, agency_payload())
    response = await client.get("/api/v1/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["organization"]["status"] == "pending"
