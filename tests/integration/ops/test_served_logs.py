"""`procmatch serve` writes JSON lines with the request id, uvicorn's own lines included."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.factories_ops import ROOT, live_server


@pytest.mark.slow
def test_a_served_request_leaves_json_lines_with_its_id(database_url: str, tmp_path: Path):
    env = {"LOG_FORMAT": "json", "SLOW_QUERY_MS": "1"}
    with live_server(database_url, tmp_path, ROOT / "test-output" / "logs", extra_env=env) as server:
        response = httpx.get(f"{server.base_url}/ready", headers={"X-Request-ID": "served-req-0001"})
        assert response.headers["x-request-id"] == "served-req-0001"
        log_path = server.log_path
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records, "no JSON log lines"
    mine = [r for r in records if r["request_id"] == "served-req-0001"]
    loggers = {r["logger"] for r in mine}
    assert "service.access" in loggers  # the access line
    # slow-query warnings (threshold 1 ms) raised while serving carry the id of their request
    started = next(i for i, r in enumerate(records) if r["message"] == "Application startup complete.")
    assert all(r["request_id"] != "-" for r in records[started:] if r["logger"] == "service.db")
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's startup lines, as JSON
    non_json = [line for line in log_path.read_text().splitlines() if line.strip() and not line.startswith("{")]
    assert not non_json, f"lines that are not JSON: {non_json[:5]}"
