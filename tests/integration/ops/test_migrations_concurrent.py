"""Two replicas starting at once against an empty database: both migrate "to head", one does the work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from service.db.engine import connect_raw
from service.db.migrate import head_revisions
from tests.conftest import _drop, _with_database

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_concurrent_upgrades_serialize(server_url: str, tmp_path: Path):
    name = f"t_mig_{uuid.uuid4().hex[:10]}"
    url = _with_database(server_url, name)
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 32}
    code = "import sys; from service.db.migrate import upgrade; upgrade(sys.argv[1])"
    try:
        runs = [
            subprocess.Popen([sys.executable, "-c", code, url], env=env, cwd=ROOT, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        for run in runs:
            _, stderr = run.communicate(timeout=180)
            assert run.returncode == 0, stderr.decode()[-2000:]

        async def applied() -> set[str]:
            conn = await connect_raw(url)
            try:
                return {row["version_num"] for row in await conn.fetch("SELECT version_num FROM alembic_version")}
            finally:
                await conn.close()

        assert asyncio.run(applied()) == head_revisions(url)
    finally:
        asyncio.run(_drop(server_url, name))
