"""The schema comes from the migrations, and PostgreSQL is set up the way the product needs."""

import asyncio
import uuid

from sqlalchemy import text

from service.db.engine import connect_raw
from service.db.migrate import current_revisions, downgrade, head_revisions, upgrade
from tests.conftest import _drop, _recreate, _with_database

# What a schema is made of, read from the catalogs: two databases whose snapshots are equal hold the
# same tables, columns, constraints, indexes, types, functions, triggers and extensions, and the same
# number of rows in each table (the migrations also load data, such as the category taxonomy).
SCHEMA_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision,
               numeric_scale, is_nullable, column_default, is_generated, generation_expression
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "constraints": """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "enums": """
        SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(pg_get_functiondef(p.oid))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal""",
    "sequences": "SELECT sequencename, data_type, increment_by FROM pg_sequences WHERE schemaname = 'public'",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    "extensions": "SELECT extname FROM pg_extension",
}


async def _schema_snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await connect_raw(url)
    try:
        snapshot = {
            name: sorted(tuple(row) for row in await conn.fetch(query)) for name, query in SCHEMA_QUERIES.items()
        }
        tables = [row[0] for row in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        snapshot["rows"] = sorted([(table, await conn.fetchval(f'SELECT count(*) FROM "{table}"')) for table in tables])
    finally:
        await conn.close()
    return snapshot


def _upgrade_one_step_at_a_time(url: str) -> None:
    heads = head_revisions(url)
    while asyncio.run(current_revisions(url)) != heads:
        upgrade(url, "+1")


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


def test_a_database_upgraded_release_by_release_ends_like_a_fresh_one(server_url, template_url):
    """A deployed database has met each migration in a separate `upgrade`; one created today meets them
    all in one. Both must end with the same schema, and so must one that went down three revisions and
    up again (the last migrations' downgrades undo exactly what their upgrades did)."""
    fresh = asyncio.run(_schema_snapshot(template_url))
    name = f"mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_recreate(server_url, name))
    url = _with_database(server_url, name)
    try:
        _upgrade_one_step_at_a_time(url)
        assert asyncio.run(_schema_snapshot(url)) == fresh
        downgrade(url, "-3")
        upgrade(url)
        assert asyncio.run(_schema_snapshot(url)) == fresh
    finally:
        asyncio.run(_drop(server_url, name))


async def test_korean_trigrams_work(engine):
    """With a C ctype, show_trgm of Korean text is empty and search silently fails."""
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


async def test_the_models_declare_everything_the_migrations_build(engine):
    """Alembic's autogenerate compares the models with the migrated schema: any difference (an index
    that exists only in a migration, a column type that drifted) is what the next autogenerated
    revision would add or drop, silently. The two must agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.schema import metadata

    async with engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
        )
    assert differences == []
