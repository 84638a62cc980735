"""The dispatcher runs as a scheduler job inside the app: a queued mail goes out on its own."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import load_settings
from service.notify.jobs import JOBS
from service.notify.models import OutboxStatus
from service.scheduler import collect_jobs
from tests.integration.notify.test_dispatcher import queue, rows


def test_the_dispatcher_runs_every_three_seconds_and_the_sweep_and_digest_every_ten_minutes():
    assert {(job.id, job.seconds) for job in JOBS} == {
        ("notify.dispatch", 3),
        ("notify.sweep", 600),
        ("notify.digest", 600),
    }
    assert {"notify.dispatch", "notify.sweep", "notify.digest"} <= {j.id for j in collect_jobs()}


async def test_the_app_scheduler_delivers_queued_mail(tmp_path, database_url, sessionmaker, smtp):
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "SCHEDULER_ENABLED": "1",
        }
    )
    await queue(sessionmaker, 2)
    async with AsyncTestClient(create_app(settings, database_url)):
        for _ in range(80):  # the first tick comes 3 s after start
            if {r.status for r in await rows(sessionmaker)} == {OutboxStatus.SENT}:
                break
            await asyncio.sleep(0.1)
    assert len(smtp.inbox.raw) == 2
    assert {r.status for r in await rows(sessionmaker)} == {OutboxStatus.SENT}
