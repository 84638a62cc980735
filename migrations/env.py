"""Async Alembic environment. The database URL comes from the caller (service.db.migrate)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from service.config import get_settings
from service.db.engine import make_engine, resolve_database_url
from service.schema import metadata

config = context.config
MIGRATION_LOCK = 0x70726F636D  # "procm": one advisory lock key for schema changes
target_metadata = metadata


def _libpq_url() -> str:
    url = config.attributes.get("libpq_url")
    return str(url) if url else resolve_database_url(get_settings())


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_libpq_url(), pool_size=1)
    try:
        async with engine.connect() as connection:
            # Several replicas may start at once: one migrates, the others wait, then find nothing to do.
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            await connection.commit()
            await connection.run_sync(_run)
            await connection.commit()
            # On failure the lock goes with the connection, which dispose() below closes.
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `procmatch db upgrade`")

asyncio.run(_run_async())
