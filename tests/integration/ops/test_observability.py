"""Request ids on responses and in log lines (slow queries included), and /metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import load_settings
from service.lib.observability import JsonFormatter, RequestIdFilter, may_read_metrics
from tests.factories import agency_payload, register


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, object]] = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured() -> Iterator[ListHandler]:
    handler = ListHandler()
    loggers = [logging.getLogger(name) for name in ("service.db", "service.access")]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler
    for logger, level in zip(loggers, previous, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


class TestRequestIdHeader:
    async def test_generated_when_absent(self, client):
        response = await client.get("/health")
        assert len(response.headers["x-request-id"]) == 32

    async def test_echoed_when_sane(self, client):
        response = await client.get("/login", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
        assert response.headers["x-request-id"] == "lb-7f3a9c21-0001"

    async def test_replaced_when_unsafe(self, client):
        response = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
        assert response.headers["x-request-id"] != "bad id with spaces"

    async def test_present_on_errors(self, client):
        response = await client.get("/api/v1/me", headers={"X-Request-ID": "err-req-000001"})
        assert response.status_code == 401
        assert response.headers["x-request-id"] == "err-req-000001"

    async def test_present_on_pages_the_router_answers_itself(self, client):
        response = await client.get("/no-such-page")
        assert response.status_code == 404
        assert len(response.headers["x-request-id"]) == 32


class TestLogLines:
    async def test_access_line_carries_the_request_id(self, client, captured):
        await client.get("/health", headers={"X-Request-ID": "access-req-0001"})
        access = [line for line in captured.lines if line["logger"] == "service.access"]
        assert access and access[-1]["request_id"] == "access-req-0001"
        assert access[-1]["status"] == 200 and access[-1]["path"] == "/health"
        assert isinstance(access[-1]["duration_ms"], float)

    async def test_slow_query_warning_carries_the_request_id(self, tmp_path: Path, database_url, captured):
        settings = load_settings(
            {
                "DATA_DIR": str(tmp_path),
                "SECRET_KEY": "test-secret-key-0123456789abcdef",
                "SCHEDULER_ENABLED": "0",
                "SLOW_QUERY_MS": "1",
            }
        )
        app = create_app(settings, database_url)
        async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as slow_client:
            account = await register(slow_client, agency_payload())
            captured.lines.clear()
            response = await slow_client.get(
                "/api/v1/me", headers={**account.headers, "X-Request-ID": "slow-req-000001"}
            )
            assert response.status_code == 200
        slow = [line for line in captured.lines if line["logger"] == "service.db"]
        assert slow, "with SLOW_QUERY_MS=1 every query is slow and must be logged"
        assert all(line["request_id"] == "slow-req-000001" for line in slow)
        assert all(str(line["message"]).startswith("slow query") for line in slow)


METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
async def monitored(tmp_path: Path, database_url: str):
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "SCHEDULER_ENABLED": "0",
            "METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    async with AsyncTestClient(create_app(settings, database_url), base_url="http://127.0.0.1:8000") as client:
        yield client


class TestMetrics:
    async def test_prometheus_text_with_route_templates(self, monitored):
        client = monitored
        account = await register(client, agency_payload())
        await client.get(f"/api/v1/agencies/{account.organization_id}", headers=account.headers)
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        body = response.text
        assert "procmatch_requests_total" in body
        assert "procmatch_request_duration_seconds_bucket" in body
        # ids are grouped under the route template, so label cardinality stays bounded
        assert 'path="/api/v1/agencies/{organization_id}"' in body
        assert str(account.organization_id) not in body

    async def test_hidden_from_other_addresses_without_the_token(self, monitored, client):
        """The test client's address is not loopback: only the token opens /metrics."""
        assert (await monitored.get("/metrics")).status_code == 404
        wrong = await monitored.get("/metrics", headers={"Authorization": "Bearer not-the-metrics-token"})
        assert wrong.status_code == 404
        assert (await client.get("/metrics")).status_code == 404  # no METRICS_TOKEN set: addresses only
        forged = await client.get("/metrics", headers={"Authorization": "Bearer ", "X-Forwarded-For": "127.0.0.1"})
        assert forged.status_code == 404

    def test_the_address_rule(self):
        loopback = ("127.0.0.1", "::1")
        assert may_read_metrics("127.0.0.1", "", loopback, None)
        assert may_read_metrics("::1", "", loopback, None)
        assert not may_read_metrics("10.0.0.8", "", loopback, None)
        assert may_read_metrics("10.0.0.8", "", ("10.0.0.0/8",), None)
        assert not may_read_metrics("testclient", "", loopback, None)
        assert may_read_metrics("203.0.113.7", "Bearer secret-secret-1234", loopback, "secret-secret-1234")
        assert not may_read_metrics("203.0.113.7", "Bearer secret-secret-1234", loopback, None)

    async def test_metrics_are_not_in_the_api_document(self, client):
        schema = (await client.get("/schema/openapi.json")).json()
        assert "/metrics" not in schema["paths"]
