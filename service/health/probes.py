"""What the readiness probe checks: the database answers, and at which revisions its schema stands."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.migrate import current_heads, head_revisions

# The migrations' heads ship with the code, so they are read once per process.
_heads: set[str] = set()


async def schema_revisions(engine: AsyncEngine, database_url: str) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the migrations' heads); raises when the database does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        current = await conn.run_sync(current_heads)
    if not _heads:
        _heads.update(head_revisions(database_url))
    return current, _heads
