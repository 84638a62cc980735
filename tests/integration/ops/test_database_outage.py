"""PostgreSQL goes away under a running server and comes back: 503 problem+json meanwhile, then
recovery by itself, without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.db.engine import sqlalchemy_url
from tests.factories import PASSWORD, agency_payload
from tests.factories_ops import ROOT, LiveServer, PgProxy, live_server


@pytest.fixture
def proxy(server_url: str) -> Iterator[PgProxy]:
    front = PgProxy(server_url).start()
    yield front
    front.stop()


@pytest.fixture
def server_behind_proxy(proxy: PgProxy, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    database = sqlalchemy_url(database_url).database
    assert database
    with live_server(proxy.url(database), tmp_path, ROOT / "test-output" / "outage") as server:
        yield server


@pytest.mark.slow
def test_outage_answers_503_and_recovers_without_restart(server_behind_proxy: LiveServer, proxy: PgProxy):
    with httpx.Client(base_url=server_behind_proxy.base_url, timeout=20) as http:
        payload = agency_payload()
        assert http.post("/api/v1/register", json=payload).status_code == 201
        login = http.post("/api/v1/auth/login", json={"email": payload["user"]["email"], "password": PASSWORD})
        http.cookies.clear()
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        assert http.get("/api/v1/me", headers=bearer).status_code == 200

        proxy.cut()
        down = http.get("/api/v1/me", headers=bearer)
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["status"] == 503 and int(down.headers["retry-after"]) > 0
        write = http.post("/api/v1/register", json=agency_payload())
        assert write.status_code == 503 and write.headers["content-type"].startswith("application/problem+json")
        page = http.get("/me", headers={"cookie": f"pm_session={login.json()['token']}", "accept": "text/html"})
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert http.get("/health").status_code == 200  # the process is fine: don't restart it
        assert http.get("/ready").status_code == 503  # but don't send it traffic that needs the database

        proxy.restore()
        deadline = time.monotonic() + 15
        while (status := http.get("/api/v1/me", headers=bearer).status_code) != 200:
            assert status == 503, f"unexpected {status} while recovering"
            assert time.monotonic() < deadline, "no recovery within 15 s"
            time.sleep(0.25)
        assert http.get("/ready").status_code == 200
        # the registration refused during the outage was not half-written: it goes through now
        assert http.post("/api/v1/register", json=agency_payload()).status_code == 201

    log = server_behind_proxy.log_tail(500_000)
    assert "unhandled error" not in log, log[-3000:]
