"""Alembic, driven from code: the schema lives in migrations/ and nowhere else."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from service.db.engine import ensure_database, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(libpq_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_path_separator", "os")
    config.attributes["libpq_url"] = libpq_url
    return config


def upgrade(libpq_url: str, revision: str = "heads") -> None:
    asyncio.run(ensure_database(libpq_url))
    command.upgrade(alembic_config(libpq_url), revision)


def downgrade(libpq_url: str, revision: str) -> None:
    command.downgrade(alembic_config(libpq_url), revision)


def head_revisions(libpq_url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(libpq_url)).get_heads())


def current_heads(sync_conn: Connection) -> set[str]:
    return set(MigrationContext.configure(sync_conn).get_current_heads())


async def current_revisions(libpq_url: str) -> set[str]:
    engine = make_engine(libpq_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(current_heads)
    finally:
        await engine.dispose()
