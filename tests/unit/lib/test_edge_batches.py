"""What EdgeMiddleware leaves for later comes out as if written at once: access lines, metrics."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from service.lib.observability import (
    APP_NAME,
    AccessLines,
    BackgroundStreamHandler,
    JsonFormatter,
    RequestMetrics,
)


def test_the_timestamp_is_the_isoformat_of_its_time() -> None:
    lines = AccessLines()
    start = datetime(2026, 11, 30, 23, 59, 58, tzinfo=UTC).timestamp()
    for step in range(0, 4000, 7):  # across seconds, minutes, a day and a month
        moment = start + step / 1000 + 0.0004
        expected = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
        assert lines.timestamp(moment) == expected


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield handler, stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        handler.close()


async def test_a_batch_of_access_lines_is_one_json_object_per_line(json_log) -> None:
    handler, stream = json_log
    lines = AccessLines()
    entry = {"method": "GET", "path": '/a"b\\c', "status": 404, "client": "10.0.0.8", "duration_ms": 1.5}
    lines.add("req-00000001", entry)
    lines.add("req-00000002", {**entry, "status": 200})
    assert len(lines.pending) == 2  # nothing rendered while requests are served
    lines.flush()
    handler.drain()
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in written] == ["req-00000001", "req-00000002"]
    first = written[0]
    assert list(first) == ["ts", "level", "logger", "message", "request_id", *entry]
    assert first["message"] == 'GET /a"b\\c 404' and first["path"] == '/a"b\\c'
    assert (first["level"], first["logger"], first["duration_ms"]) == ("INFO", "service.access", 1.5)
    assert datetime.fromisoformat(first["ts"]).tzinfo is not None


def test_request_metrics_count_in_progress_and_finished_requests_at_each_flush() -> None:
    metrics = RequestMetrics()
    route = ("GET", "/edge-batches/{id}")
    labels = {"method": route[0], "path": route[1], "app_name": APP_NAME}

    def value(name: str, status: int) -> float:
        return REGISTRY.get_sample_value(name, {**labels, "status_code": str(status)}) or 0.0

    counted = value("procmatch_requests_total", 503)
    count = metrics.started(*route)
    metrics.started(*route)
    metrics.flush()
    assert value("procmatch_requests_in_progress", 200) == 2
    metrics.pending.append((*route, 503, 0.2))  # as `finished` leaves it, without its timer
    count[0] -= 1
    metrics.flush()
    assert value("procmatch_requests_in_progress", 200) == 1
    assert value("procmatch_requests_total", 503) == counted + 1
    assert value("procmatch_requests_error_total", 503) >= 1
    bucket = REGISTRY.get_sample_value(
        "procmatch_request_duration_seconds_bucket", {**labels, "status_code": "503", "le": "0.25"}
    )
    assert bucket is not None and bucket >= 1
