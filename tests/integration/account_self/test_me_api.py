"""PATCH /me and the caller's sessions (issue 15, item 5, API rows of "People and accounts")."""

from __future__ import annotations

import uuid
from datetime import timedelta

from service.lib import clock
from tests.factories import firm_payload, login, register


class TestPatchMe:
    async def test_named_fields_change_and_the_others_stay(self, client):
        account = await register(client, firm_payload())
        response = await client.patch(
            "/api/v1/me", json={"name": "  김담당 ", "phone": "02-123-4567", "locale": "en"}, headers=account.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["phone"], body["locale"], body["email"]) == (
            "김담당", "02-123-4567", "en", account.email,
        )  # fmt: skip
        only_phone = await client.patch("/api/v1/me", json={"phone": None}, headers=account.headers)
        assert (only_phone.json()["name"], only_phone.json()["phone"]) == ("김담당", None)

    async def test_every_bad_field_is_named_and_nothing_is_written(self, client):
        account = await register(client, firm_payload())
        response = await client.patch(
            "/api/v1/me", json={"name": " ", "phone": "call me", "locale": "fr"}, headers=account.headers
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"name", "phone", "locale"}
        me = (await client.get("/api/v1/me", headers=account.headers)).json()
        assert (me["name"], me["locale"]) == ("대표", "ko")

    async def test_a_wrong_type_is_a_4xx_not_a_500(self, client):
        account = await register(client, firm_payload())
        response = await client.patch("/api/v1/me", json={"name": 5}, headers=account.headers)
        assert 400 <= response.status_code < 500

    async def test_it_needs_a_signed_in_caller(self, client):
        assert (await client.patch("/api/v1/me", json={"name": "x"})).status_code == 401


class TestSessions:
    async def test_the_list_shows_the_callers_sessions_the_one_in_use_first(self, client):
        account = await register(client, firm_payload())
        other = await login(client, account.email)
        sessions = (await client.get("/api/v1/me/sessions", headers=account.headers)).json()
        assert len(sessions) == 2
        assert sessions[0]["current"] is True and sessions[1]["current"] is False
        assert {"id", "device", "user_agent", "created_at", "last_seen_at", "expires_at"} <= set(sessions[0])
        mine = (await client.get("/api/v1/me/sessions", headers={"Authorization": f"Bearer {other}"})).json()
        assert mine[0]["id"] == sessions[1]["id"]

    async def test_ending_a_session_signs_it_out_at_once(self, client):
        account = await register(client, firm_payload())
        other = await login(client, account.email)
        other_headers = {"Authorization": f"Bearer {other}"}
        [_, second] = (await client.get("/api/v1/me/sessions", headers=account.headers)).json()
        assert (await client.delete(f"/api/v1/me/sessions/{second['id']}", headers=account.headers)).status_code == 204
        assert (await client.get("/api/v1/me", headers=other_headers)).status_code == 401
        assert (await client.get("/api/v1/me", headers=account.headers)).status_code == 200
        again = await client.delete(f"/api/v1/me/sessions/{second['id']}", headers=account.headers)
        assert again.status_code == 404

    async def test_another_users_session_is_not_found(self, client):
        one = await register(client, firm_payload())
        two = await register(client, firm_payload())
        [theirs] = (await client.get("/api/v1/me/sessions", headers=two.headers)).json()
        assert (await client.delete(f"/api/v1/me/sessions/{theirs['id']}", headers=one.headers)).status_code == 404
        assert (await client.delete(f"/api/v1/me/sessions/{uuid.uuid4()}", headers=one.headers)).status_code == 404
        assert (await client.get("/api/v1/me", headers=two.headers)).status_code == 200


class TestLastSeen:
    async def test_a_request_notes_when_its_session_was_last_used(self, client):
        account = await register(client, firm_payload())
        other = await login(client, account.email)
        clock.set_now(clock.now() + timedelta(minutes=30))
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})
        [current, second] = (await client.get("/api/v1/me/sessions", headers=account.headers)).json()
        assert second["last_seen_at"] > second["created_at"]
        assert current["last_seen_at"] >= second["last_seen_at"]
