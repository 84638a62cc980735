"""The schema comes from the migrations, and PostgreSQL is set up the way the product needs."""

import asyncio
import uuid

from sqlalchemy import text

from service.db.migrate import current_revisions, downgrade, head_revisions, upgrade
from tests.conftest import _drop, _recreate, _with_database


def test_migrations_upgrade_from_empty_and_downgrade_cleanly(server_url):
    name = f"mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_recreate(server_url, name))
    url = _with_database(server_url, name)
    try:
        upgrade(url)
        assert asyncio.run(current_revisions(url)) == head_revisions(url)
        downgrade(url, "base")
        assert asyncio.run(current_revisions(url)) == set()
        upgrade(url)  # and up again: downgrade left nothing behind that blocks it
        assert asyncio.run(current_revisions(url)) == head_revisions(url)
    finally:
        asyncio.run(_drop(server_url, name))


async def test_korean_trigrams_work(engine):
    """PITFALLS #1: with a C ctype, show_trgm of Korean text is empty and search silently fails."""
    async with engine.connect() as conn:
        trigrams = await conn.scalar(text("SELECT show_trgm('한글')"))
        similarity = await conn.scalar(text("SELECT similarity('사회적협동조합', '사회적 협동조합')"))
    assert trigrams
    assert similarity > 0.5


async def test_extensions_installed(engine):
    async with engine.connect() as conn:
        names = set((await conn.execute(text("SELECT extname FROM pg_extension"))).scalars())
    assert {"btree_gist", "pg_trgm", "citext"} <= names


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
