"""JSON log lines and request ids."""

from __future__ import annotations

import json
import logging
import time

from hypothesis import given
from hypothesis import strategies as st

from service.lib.observability import (
    BackgroundStreamHandler,
    JsonFormatter,
    RequestIdFilter,
    _request_id,
    log_config,
    new_request_id,
)


def render(record: logging.LogRecord) -> dict[str, object]:
    RequestIdFilter().filter(record)
    return dict(json.loads(JsonFormatter().format(record)))


class TestRequestId:
    def test_a_sane_client_id_is_kept(self):
        assert new_request_id("req-2026.11.28:abc_DEF-1") == "req-2026.11.28:abc_DEF-1"

    def test_missing_id_is_generated(self):
        generated = new_request_id(None)
        assert len(generated) == 32 and int(generated, 16) >= 0

    @given(st.text(max_size=300))
    def test_anything_unusual_is_replaced(self, candidate):
        result = new_request_id(candidate)
        if result == candidate:
            assert 8 <= len(candidate) <= 128
            assert all(c.isascii() and (c.isalnum() or c in "._:-") for c in candidate)
        else:
            assert len(result) == 32

    def test_log_injection_is_refused(self):
        assert new_request_id('abcdefgh"\n{"level":"ERROR"}') != 'abcdefgh"\n{"level":"ERROR"}'


class TestJsonFormatter:
    def test_one_json_object_with_the_request_id_and_extras(self):
        token = _request_id.set("rid-12345678")
        try:
            record = logging.makeLogRecord(
                {"name": "service.db", "levelname": "WARNING", "msg": "slow query %d ms", "args": (250,)}
            )
            record.duration_ms = 250
            line = render(record)
        finally:
            _request_id.reset(token)
        assert line["message"] == "slow query 250 ms"
        assert line["request_id"] == "rid-12345678"
        assert line["logger"] == "service.db" and line["level"] == "WARNING"
        assert line["duration_ms"] == 250

    def test_outside_a_request_the_id_is_a_dash(self):
        line = render(logging.makeLogRecord({"msg": "startup"}))
        assert line["request_id"] == "-"

    def test_korean_stays_readable_and_exceptions_are_included(self):
        try:
            raise ValueError("잘못된 값")
        except ValueError:
            import sys

            record = logging.makeLogRecord({"msg": "실패", "exc_info": sys.exc_info()})
        line = render(record)
        assert line["message"] == "실패"
        assert "잘못된 값" in str(line["exception"])

    def test_config_switches_to_text(self):
        assert "format" in log_config(fmt="text")["formatters"]["default"]
        assert log_config(fmt="json")["formatters"]["default"]["()"].endswith("JsonFormatter")


class SlowStream:
    """A stderr whose every write takes 0.2 s (a full pipe, a disk under writeback)."""

    def __init__(self) -> None:
        self.text: list[str] = []

    def write(self, text: str) -> None:
        time.sleep(0.2)
        self.text.append(text)

    def flush(self) -> None:
        pass


def test_background_handler_never_makes_the_caller_wait_for_the_write():
    stream = SlowStream()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("test.background")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    token = _request_id.set("req-0123456789")
    try:
        started = time.perf_counter()
        for i in range(5):
            logger.info("line %d", i, extra={"path": "/x"})
        assert time.perf_counter() - started < 0.2  # five writes take a second
    finally:
        _request_id.reset(token)
        logger.removeHandler(handler)
    handler.drain()
    handler.close()
    lines = [json.loads(line) for line in "".join(stream.text).splitlines()]
    assert [line["message"] for line in lines] == [f"line {i}" for i in range(5)]
    assert {(line["request_id"], line["path"]) for line in lines} == {("req-0123456789", "/x")}


async def test_access_lines_are_written_in_batches_in_the_json_formatters_shape():
    """Access lines go to the writer thread 50 ms at a time, one write, each line the JSON object
    JsonFormatter would have made of the record (same keys), in the order the requests ended."""
    import asyncio
    import io

    from service.lib.observability import AccessLines

    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers, root.level = [handler], logging.INFO
    access = logging.getLogger("service.access")
    access_level = access.level
    access.setLevel(logging.INFO)
    lines = AccessLines()
    try:
        for i in range(3):
            entry = {"method": "GET", "path": f"/p{i}", "status": 200, "client": "127.0.0.1", "duration_ms": 1.5}
            lines.add(f"req-{i:010d}", entry)
        assert len(lines.pending) == 3 and stream.getvalue() == ""  # nothing handed over yet
        await asyncio.sleep(AccessLines.BATCH_SECONDS * 3)
        handler.drain()
    finally:
        root.handlers, root.level = saved, level
        access.setLevel(access_level)
        handler.close()
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [w["path"] for w in written] == ["/p0", "/p1", "/p2"]
    assert written[0].keys() >= {"ts", "level", "logger", "message", "request_id", "status", "client", "duration_ms"}
    assert (written[1]["message"], written[1]["request_id"], written[1]["logger"]) == (
        "GET /p1 200",
        "req-0000000001",
        "service.access",
    )
