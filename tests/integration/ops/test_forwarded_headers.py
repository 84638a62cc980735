"""Whose address the app sees (`request.client.host`, what the sign-in and registration throttles
count and what /metrics admits): the peer's, unless the peer is a proxy listed in
FORWARDED_ALLOW_IPS. Through a real `procmatch serve`, because uvicorn applies the headers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.factories_ops import ROOT, live_server

FORGED = ["203.0.113.7", "198.51.100.23", "192.0.2.99"]


def clients_logged(log_path: Path, request_ids: list[str]) -> list[str]:
    by_id = {}
    for line in log_path.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record["logger"] == "service.access":
                by_id[record["request_id"]] = record["client"]
    return [by_id[request_id] for request_id in request_ids]


def probe(base_url: str, forwarded_for: str, request_id: str) -> int:
    headers = {"X-Forwarded-For": forwarded_for, "X-Request-ID": request_id}
    return httpx.get(f"{base_url}/metrics", headers=headers, timeout=10).status_code


@pytest.mark.slow
class TestForwardedHeaders:
    def test_by_default_a_rotating_forwarded_for_changes_nothing(self, database_url: str, tmp_path: Path):
        env = {"LOG_FORMAT": "json"}  # FORWARDED_ALLOW_IPS unset: trust no proxy
        with live_server(database_url, tmp_path, ROOT / "test-output" / "logs", extra_env=env) as server:
            ids = [f"fwd-default-{i:04d}" for i in range(len(FORGED))]
            statuses = [probe(server.base_url, forged, rid) for forged, rid in zip(FORGED, ids, strict=True)]
            log_path = server.log_path
        assert clients_logged(log_path, ids) == ["127.0.0.1"] * len(FORGED)
        assert statuses == [200] * len(FORGED)  # still the loopback monitor, whatever the header says

    def test_a_listed_proxy_forwards_the_client_address(self, database_url: str, tmp_path: Path):
        env = {"LOG_FORMAT": "json", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
        with live_server(database_url, tmp_path, ROOT / "test-output" / "logs", extra_env=env) as server:
            ids = [f"fwd-proxy-{i:04d}" for i in range(len(FORGED))]
            statuses = [probe(server.base_url, forged, rid) for forged, rid in zip(FORGED, ids, strict=True)]
            through_proxy_from_loopback = probe(server.base_url, "127.0.0.1", "fwd-proxy-local")
            log_path = server.log_path
        assert clients_logged(log_path, ids) == FORGED
        assert statuses == [404] * len(FORGED)  # outside addresses: no metrics
        assert through_proxy_from_loopback == 200
