"""`procmatch demo` reads like the real thing: organizations with distinct, plausible names and
plain Korean descriptions, and the accounts printed once the server listens, after its start-up
log lines, each with its organization and whether it starts pending."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from service.config import Settings
from service.db.engine import make_engine, make_sessionmaker
from service.demo import DEMO_PASSWORD, accounts_text, ensure_demo_data
from service.registry.models import Organization, OrganizationStatus
from tests.factories_ops import ROOT, free_port


async def test_the_demo_organizations_read_like_real_ones(database_url: str, settings: Settings) -> None:
    accounts = await ensure_demo_data(database_url, settings)
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine, settings)() as session:
            organizations = list(await session.scalars(select(Organization)))
    finally:
        await engine.dispose()

    names = [o.name for o in organizations]
    assert len(names) == len(set(names)), "two organizations share a name"
    assert not [n for n in names if n.startswith("(주)") and "협동조합" in n]
    descriptions = [o.description for o in organizations if o.description]
    assert len(descriptions) >= 171
    assert not [d for d in descriptions if re.search(r"[A-Za-z]", d)], "a description with Latin letters"
    assert "강동구의 " in " ".join(descriptions)

    pending = {o.name for o in organizations if o.status == OrganizationStatus.PENDING}
    assert pending == {a.organization for a in accounts if a.pending} == {"서울시설공단", "성북도시락마을기업"}
    text = accounts_text(accounts, "http://127.0.0.1:8000")
    assert DEMO_PASSWORD in text
    for account in accounts:
        line = next(line for line in text.splitlines() if account.email in line)
        assert account.organization in line
        assert ("pending" in line) == account.pending


def test_the_accounts_are_printed_after_the_start_up_logs(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Against a database that already has the demo (so it starts fast): the account lines come
    after uvicorn says it is running, and nothing on the way warns."""
    asyncio.run(ensure_demo_data(database_url, settings))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "demo-test-secret-key-0123456789",
        "LOG_FORMAT": "text",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "demo", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline and not any("firm3@demo" in line for line in lines):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
    finally:
        process.terminate()
        process.wait(timeout=15)
        assert process.stdout is not None
        process.stdout.close()
    output = "\n".join(lines)
    running = next(i for i, line in enumerate(lines) if "Uvicorn running" in line)
    accounts = next(i for i, line in enumerate(lines) if "Demo accounts" in line)
    assert running < accounts, output
    assert "서울특별시 은평구청" in output
    assert not [line for line in lines if "Warning" in line or "WARNING" in line], output
    assert "setup plugin" not in output
