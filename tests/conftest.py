"""Test harness: real PostgreSQL built by the Alembic migrations.

The embedded server (or DATABASE_URL's) holds one template database migrated to head at
the start of the session; every test gets its own clone of it, so tests are isolated even
when they commit, race on separate connections, or run the app over HTTP.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.accounts import passwords
from service.app import create_app
from service.config import Settings, load_settings
from service.db.embedded import socket_url, start_embedded
from service.db.engine import connect_raw, make_engine, make_sessionmaker
from service.db.migrate import upgrade
from service.lib import clock

ROOT = Path(__file__).resolve().parent.parent
# One template per pytest-xdist worker ("gw0", "gw1"...; "main" without xdist): each worker
# migrates its own, so the workers never wait for each other's DDL.
TEMPLATE_DB = f"procmatch_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
REGISTRATIONS_FOR_TESTS = 100_000
# The embedded server's URL, found by the first pytest process (the xdist controller) and
# inherited by its workers through the environment.
SERVER_URL_VARIABLE = "PROCMATCH_TEST_SERVER_URL"

# Passwords hashed in the test processes cost argon2's minimum (under a millisecond instead of 0.1-0.3 s a hash
# and a verify); servers started as subprocesses, and production, keep the production parameters, which
# tests/unit/accounts/test_passwords.py pins.
passwords.use_hasher(PasswordHasher.from_parameters(CHEAPEST))


def pytest_configure(config: pytest.Config) -> None:
    """Start the embedded server once, in the process that spawns the xdist workers (or the only
    process), so that process, the one that started it, also stops it when the run ends."""
    starts_server = not hasattr(config, "workerinput") and not os.environ.get("DATABASE_URL")
    if starts_server and SERVER_URL_VARIABLE not in os.environ:
        os.environ[SERVER_URL_VARIABLE] = start_embedded(ROOT / ".data" / "test-pg")
        asyncio.run(_without_durability(os.environ[SERVER_URL_VARIABLE]))


# A throw-away test server needs no crash safety: without fsync a test database's clone and drop
# (each a checkpoint) take milliseconds instead of seconds. Nothing in the suite crashes this server
# (the fault tests cut connections through a proxy or start servers of their own), and a killed
# PostgreSQL still loses nothing the kernel holds; only the operating system crashing could.
NO_DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


async def _without_durability(server_url: str) -> None:
    conn = await connect_raw(server_url, database="postgres")
    try:
        for setting in NO_DURABILITY:
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL") or os.environ.get(SERVER_URL_VARIABLE)
    if url:
        return url
    return start_embedded(ROOT / ".data" / "test-pg")


def _with_database(server_url: str, name: str) -> str:
    if "?host=/" in server_url or server_url.startswith("postgresql://postgres@/"):
        return socket_url(server_url, name)
    head, sep, query = server_url.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"


async def _recreate(admin_url: str, name: str, template: str | None = None) -> None:
    conn = await connect_raw(admin_url, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            await conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0")
    finally:
        await conn.close()


async def _drop(admin_url: str, name: str) -> None:
    conn = await connect_raw(admin_url, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    """A database migrated from empty to head once per session (migrations always exercised)."""
    url = _with_database(server_url, TEMPLATE_DB)
    asyncio.run(_recreate(server_url, TEMPLATE_DB))
    upgrade(url)
    return url


@pytest.fixture
def database_url(server_url: str, template_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_recreate(server_url, name, template=TEMPLATE_DB))
    yield _with_database(server_url, name)
    asyncio.run(_drop(server_url, name))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "BASE_URL": "http://127.0.0.1:8000",
            "SCHEDULER_ENABLED": "0",
            # Every test client comes from one address; tests register freely (the limit has its own tests).
            "REGISTRATION_LIMIT_PER_HOUR": str(REGISTRATIONS_FOR_TESTS),
        }
    )


@pytest.fixture
def app(settings: Settings, database_url: str) -> Litestar:
    return create_app(settings, database_url)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine, settings: Settings) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine, settings)


@pytest.fixture(autouse=True)
def _unfreeze_clock() -> Iterator[None]:
    yield
    clock.set_now(None)
    clock._offset = clock.timedelta(0)
