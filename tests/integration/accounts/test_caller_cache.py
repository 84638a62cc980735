"""The caller cache (service/accounts/callers.py) never outlives a revocation, in any instance.

Two application instances on one database, each with its own cache and listening connection. The
changes are made with plain SQL on a third connection, as any future code path might: only the
database's triggers (migration 021) can tell the instances.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.db.engine import connect_raw
from tests.factories import agency_payload, register


@pytest.fixture
async def second(settings, database_url) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings, database_url), base_url="http://127.0.0.1:8000") as client:
        yield client


async def cached_me(client: AsyncTestClient, headers: dict[str, str]) -> None:
    """Two reads: the second is served from the instance's cache."""
    callers = client.app.state.callers
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    hits = callers.hits
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert callers.hits == hits + 1


async def sql(database_url: str, statement: str, *args: object) -> None:
    conn = await connect_raw(database_url)
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


class TestCallerCache:
    async def test_revocation_by_sql_ends_a_cached_caller_on_both_instances(self, client, second, database_url):
        account = await register(client, agency_payload())
        await cached_me(client, account.headers)
        await cached_me(second, account.headers)
        await sql(database_url, "UPDATE auth_tokens SET revoked_at = now()")
        assert (await second.get("/api/v1/me", headers=account.headers)).status_code == 401
        assert (await client.get("/api/v1/me", headers=account.headers)).status_code == 401

    async def test_logout_on_one_instance_ends_the_cached_caller_on_the_other(self, client, second):
        account = await register(client, agency_payload())
        await cached_me(second, account.headers)
        assert (await client.post("/api/v1/auth/logout", headers=account.headers)).status_code == 204
        assert (await second.get("/api/v1/me", headers=account.headers)).status_code == 401

    async def test_deactivated_user_and_changed_organization_are_seen_at_once(self, client, second, database_url):
        account = await register(client, agency_payload())
        await cached_me(second, account.headers)
        # the organization is verified by plain SQL: the cached caller's status follows at once
        await sql(database_url, "UPDATE organizations SET status = 'verified'")
        assert (await second.get("/api/v1/me", headers=account.headers)).status_code == 200
        await sql(database_url, "UPDATE users SET is_active = false")
        assert (await second.get("/api/v1/me", headers=account.headers)).status_code == 401

    async def test_unrelated_user_writes_keep_the_cache(self, client, second, database_url):
        account = await register(client, agency_payload())
        await cached_me(second, account.headers)
        await sql(database_url, "UPDATE users SET last_home_visit_at = now(), name = name")
        await cached_me(second, account.headers)

    async def test_revocation_racing_concurrent_requests(self, client, second, database_url):
        """Requests sent after the revocation committed all answer 401, however many share a barrier."""
        account = await register(client, agency_payload())
        await cached_me(second, account.headers)
        before = await asyncio.gather(*(second.get("/api/v1/me", headers=account.headers) for _ in range(20)))
        assert {r.status_code for r in before} == {200}
        await sql(database_url, "UPDATE auth_tokens SET revoked_at = now()")
        after = await asyncio.gather(*(second.get("/api/v1/me", headers=account.headers) for _ in range(20)))
        assert {r.status_code for r in after} == {401}

    async def test_a_lost_listening_connection_turns_the_cache_off_until_it_is_back(self, client, database_url):
        account = await register(client, agency_payload())
        await cached_me(client, account.headers)
        callers = client.app.state.callers
        pid = callers.listener.get_server_pid()
        await sql(database_url, "SELECT pg_terminate_backend($1)", pid)
        # whether or not the loss was noticed yet, a revoked token is refused
        await sql(database_url, "UPDATE auth_tokens SET revoked_at = now()")
        assert (await client.get("/api/v1/me", headers=account.headers)).status_code == 401
        # the cache listens again on a new connection and serves hits again
        fresh = await register(client, agency_payload())
        for _ in range(50):
            if callers.listener is not None and callers.listener.get_server_pid() != pid:
                break
            await asyncio.sleep(0.1)
        assert callers.listener is not None and callers.listener.get_server_pid() != pid
        await cached_me(client, fresh.headers)

    async def test_me_reads_the_account_with_the_caller_and_shows_every_change_at_once(
        self, client, second, database_url
    ):
        """GET /me answers from the cached caller's account (no round trip of its own), and an edit of
        the organization's profile or of the user's mail switches on any path shows on every instance."""
        account = await register(client, agency_payload())
        await cached_me(second, account.headers)
        me = (await second.get("/api/v1/me", headers=account.headers)).json()
        assert me["organization"]["name"] and me["mail_preferences"]["digest"] is True
        callers = second.app.state.callers
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        from sqlalchemy import event

        event.listen(callers.reader.sync_engine, "before_cursor_execute", count)
        try:
            assert (await second.get("/api/v1/me", headers=account.headers)).status_code == 200
        finally:
            event.remove(callers.reader.sync_engine, "before_cursor_execute", count)
        assert statements == 0  # caller and account from the cache

        await sql(database_url, "UPDATE organizations SET phone = '02-2133-0000', annual_target_krw = 5000")
        org = (await second.get("/api/v1/me", headers=account.headers)).json()["organization"]
        assert (org["phone"], org["annual_target_krw"]) == ("02-2133-0000", 5000)
        patched = await client.patch(
            "/api/v1/me", json={"mail_preferences": {"digest": False}}, headers=account.headers
        )
        assert patched.status_code == 200
        assert (await second.get("/api/v1/me", headers=account.headers)).json()["mail_preferences"]["digest"] is False
        # a counter nobody caches stays silent: the cache keeps serving
        await sql(database_url, "UPDATE organizations SET confirmed_contracts = confirmed_contracts + 1")
        await cached_me(second, account.headers)


async def test_every_cached_column_is_watched_by_a_trigger(database_url):
    """What the caller statement reads of users and organizations is exactly what may be cached:
    each such column must be in its table's `auth_changed` trigger, or an edit of it would be served
    stale for up to the cache's lifetime (ids and creation times never change)."""
    import re

    from service.accounts.callers import ACCOUNT_COLUMNS

    read = {
        table: set(re.findall(rf"\b{alias}\.(\w+)", ACCOUNT_COLUMNS)) - {"id", "created_at"}
        for table, alias in (("users", "u"), ("organizations", "o"))
    }
    conn = await connect_raw(database_url)
    try:
        for table, columns in read.items():
            definition = await conn.fetchval(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = $1", f"{table}_auth_changed_update"
            )
            watched = set(re.search(r"UPDATE OF (.*?) ON", definition).group(1).replace(" ", "").split(","))
            assert columns <= watched, (table, sorted(columns - watched))
    finally:
        await conn.close()
